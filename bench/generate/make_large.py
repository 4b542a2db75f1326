"""Writes a large IOC instance and its support definitions for the benchmark.

usage: make_large.py OUT_DIR N_ENTITIES
The mix follows a real motion/detector IOC: asyn ports, controllers with
object references, axes with counters and database rows, plugins made with
ibek.repeat inside sub-entities, and startup commands.
"""
import sys
from pathlib import Path

out = Path(sys.argv[1])
n = int(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)

(out / "bench.ibek.support.yaml").write_text('''module: bench
entity_models:
  - name: Port
    description: an asyn IP port
    parameters:
      name: {type: id, description: port name}
      IP: {type: str, description: address}
      timeout: {type: float, description: timeout, default: 1.5}
    pre_init:
      - value: drvAsynIPPortConfigure("{{ name }}", "{{ IP }}", 0, 0, 0)
      - value: asynSetOption("{{ name }}", 0, "disconnectOnReadTimeout", "Y")
        when: first
  - name: Controller
    description: a motion controller on a port
    parameters:
      name: {type: id, description: controller}
      port: {type: object, description: the port}
      P: {type: str, description: prefix}
      axes: {type: int, description: number of axes, default: 8}
      mode: {type: enum, description: mode, values: {sim: 0, real: 1}, default: real}
    pre_defines:
      counter: {description: axis counter name, value: "{{ 'axes_{}'.format(name) }}"}
    pre_init:
      - value: |
          # controller {{ name }} on {{ port }} ({{ port.IP }})
          ControllerCreate("{{ name }}", "{{ port }}", {{ axes }}, {{ mode }})
    databases:
      - file: $(MOTOR)/db/controller.template
        args: {P: null, name: null, mode: null, timeout: "{{ port.timeout }}"}
  - name: Axis
    description: a motor axis
    parameters:
      controller: {type: object, description: controller}
      M: {type: str, description: record name}
      num: {type: int, description: axis number, default: "{{ _global.incrementor(controller.counter, start=1) }}"}
      VELO: {type: float, description: velocity, default: 1.0}
      EGU: {type: str, description: units, default: mm}
      DESC: {type: str, description: description, default: "axis {{ num }} of {{ controller }}"}
    post_defines:
      ADDR: {description: asyn address, type: int, value: "{{ num - 1 }}"}
    pre_init:
      - value: AxisCreate("{{ controller }}", {{ ADDR }}, "{{ '%02d' % num }}")
    post_init:
      - value: dbpf {{ controller.P }}{{ M }}.VELO {{ VELO * 2 }}
    databases:
      - file: $(MOTOR)/db/basic_asyn_motor.db
        args:
          P: "{{ controller.P }}"
          M:
          PORT: "{{ controller.name }}"
          ADDR:
          VELO:
          EGU:
          DESC:
  - name: Detector
    description: a detector with a bank of plugins
    parameters:
      name: {type: id, description: detector}
      P: {type: str, description: prefix}
      plugins: {type: int, description: plugins, default: 4}
    sub_entities:
      - type: ibek.repeat
        variable: i
        values: "{{ range(plugins) | list }}"
        entity:
          type: bench.Plugin
          PORT: "{{ name }}.P{{ i }}"
          P: "{{ P }}"
          R: ":PLUG{{ '%d' % (i + 1) }}:"
  - name: Plugin
    description: a plugin
    parameters:
      PORT: {type: str, description: port}
      P: {type: str, description: prefix}
      R: {type: str, description: suffix}
    pre_init:
      - value: NDPluginCreate("{{ PORT }}", 20, 0, "{{ P }}{{ R }}")
    databases:
      - file: $(ADCORE)/db/NDPlugin.template
        args: {PORT: null, P: null, R: null}
''')

lines = ["ioc_name: \"{{ _global.get_env('IOC_NAME') }}\"",
         "description: a large generated IOC for benchmarks", "entities:"]
count = 0
c = 0
while count < n:
    lines += [f"  - type: bench.Port", f"    name: port{c}", f"    IP: 10.0.{c // 250}.{c % 250 + 1}:5000"]
    lines += [f"  - type: bench.Controller", f"    name: ctrl{c}", f"    port: port{c}", f"    P: BL{c:02d}-MO-CTRL-01"]
    count += 2
    for a in range(8):
        if count >= n:
            break
        lines += [f"  - type: bench.Axis", f"    controller: ctrl{c}", f"    M: \":M{a + 1}\"", f"    VELO: {0.5 + a}"]
        count += 1
    if count < n:
        lines += [f"  - type: bench.Detector", f"    name: det{c}", f"    P: BL{c:02d}-EA-DET-01"]
        count += 1
    c += 1
(out / "ioc.yaml").write_text("\n".join(lines) + "\n")
