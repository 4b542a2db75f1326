{{- define "ioc-instance" -}}
{{- $ioc := index .Values "ioc-instance" -}}
{{- $config := (.Files.Glob "config/*").AsConfig -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  labels:
    domain: {{ .Values.global.domain | quote }}
data:
{{ $config | indent 2 }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}
  labels:
    domain: {{ .Values.global.domain | quote }}
    location: {{ .Values.global.location | quote }}
spec:
  replicas: {{ $ioc.replicas }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  serviceName: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
      annotations:
        configHash: {{ $config | sha1sum | quote }}
    spec:
      hostNetwork: {{ $ioc.hostNetwork }}
      containers:
        - name: {{ .Release.Name }}
          image: {{ $ioc.image | quote }}
          {{- with $ioc.volumeMounts }}
          volumeMounts:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      {{- with $ioc.volumes }}
      volumes:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
