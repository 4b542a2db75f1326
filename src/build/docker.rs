//! The Docker Engine API through bollard: the crate's only async code.
//!
//! [`DockerEngine`] implements [`Engine`] for a daemon found as the docker
//! CLI finds it (`DOCKER_HOST`, else `/var/run/docker.sock`). Each call runs
//! a single-threaded tokio runtime to completion, so callers stay
//! synchronous. The API version is negotiated first (Debian's docker.io
//! 20.10 speaks 1.41), which doubles as the reachability check. Builds use
//! the classic builder (`version=1`): `BuildKit` needs a gRPC session bollard
//! only offers behind a heavy feature.

use std::collections::HashMap;

use bollard::query_parameters::{BuildImageOptions, BuilderVersion};
use bollard::{body_full, Docker};
use futures_util::StreamExt;

use super::image::{BuildEvent, BuildRequest, Engine};

/// A daemon that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No daemon answers at the address.
    #[error("cannot reach the Docker daemon at `{host}`: {reason}")]
    Unreachable {
        /// `DOCKER_HOST` or the default socket.
        host: String,
        /// What the connection said.
        reason: String,
    },
    /// The daemon refused the request, or the stream broke off.
    #[error("the Docker daemon at `{host}` failed the request: {reason}")]
    Request {
        /// `DOCKER_HOST` or the default socket.
        host: String,
        /// What it said.
        reason: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// The docker CLI's default daemon address.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The Docker daemon of `DOCKER_HOST` (or the default socket).
#[derive(Debug, Clone)]
pub struct DockerEngine {
    host: String,
}

impl Default for DockerEngine {
    fn default() -> Self {
        DockerEngine {
            host: DEFAULT_HOST.to_string(),
        }
    }
}

/// The whole chain of an error, `: `-separated (hyper hides the cause).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

impl DockerEngine {
    /// The daemon the docker CLI would use with `env` (`DOCKER_HOST`, else the default socket).
    pub fn from_env(env: &crate::layout::Environment) -> DockerEngine {
        DockerEngine {
            host: env
                .non_empty(crate::env::DOCKER_HOST)
                .unwrap_or(DEFAULT_HOST)
                .to_string(),
        }
    }

    /// The address used.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn unreachable(&self, e: &dyn std::error::Error) -> DockerError {
        DockerError::Unreachable {
            host: self.host.clone(),
            reason: chain(e),
        }
    }

    async fn connect(&self) -> Result<Docker, DockerError> {
        let docker = Docker::connect_with_host(&self.host).map_err(|e| self.unreachable(&e))?;
        docker
            .negotiate_version()
            .await
            .map_err(|e| self.unreachable(&e))
    }

    fn block_on<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DockerError::Runtime)?
            .block_on(work)
    }

    /// Checks that the daemon answers; returns its version.
    pub fn ping(&self) -> Result<String, DockerError> {
        self.block_on(async {
            let docker = self.connect().await?;
            let v = docker.version().await.map_err(|e| self.unreachable(&e))?;
            Ok(v.version.unwrap_or_default())
        })
    }

    /// Reads one file of an image without running it: creates a container
    /// (never started), downloads the file's tar archive, removes the container.
    pub fn read_image_file(&self, image: &str, path: &str) -> Result<Vec<u8>, DockerError> {
        use std::io::Read as _;
        let request = |e: &dyn std::error::Error| DockerError::Request {
            host: self.host.clone(),
            reason: chain(e),
        };
        let archive = self.block_on(async {
            let docker = self.connect().await?;
            // an image without CMD (e.g. from `docker import`) needs one to
            // create a container; it is never started
            let body = bollard::models::ContainerCreateBody {
                image: Some(image.to_string()),
                cmd: Some(vec!["/bin/true".to_string()]),
                ..Default::default()
            };
            let id = docker
                .create_container(None, body)
                .await
                .map_err(|e| request(&e))?
                .id;
            let opts = bollard::query_parameters::DownloadFromContainerOptions {
                path: path.to_string(),
            };
            let mut stream = docker.download_from_container(&id, Some(opts));
            let mut bytes = Vec::new();
            let mut failure = None;
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(c) => bytes.extend_from_slice(&c),
                    Err(e) => {
                        failure = Some(request(&e));
                        break;
                    }
                }
            }
            let remove = bollard::query_parameters::RemoveContainerOptions {
                force: true,
                ..Default::default()
            };
            let _ = docker.remove_container(&id, Some(remove)).await;
            failure.map_or(Ok(bytes), Err)
        })?;
        let mut tar = tar::Archive::new(archive.as_slice());
        let entries = tar.entries().map_err(|e| request(&e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| request(&e))?;
            if entry.header().entry_type().is_file() {
                let mut out = Vec::new();
                entry.read_to_end(&mut out).map_err(|e| request(&e))?;
                return Ok(out);
            }
        }
        Err(DockerError::Request {
            host: self.host.clone(),
            reason: format!("`{path}` in image `{image}` is not a file"),
        })
    }
}

fn options(request: &BuildRequest) -> BuildImageOptions {
    BuildImageOptions {
        dockerfile: request.dockerfile.clone(),
        // the API takes one `t`; further tags are added after the build
        t: request.tags.first().cloned(),
        target: request.target.clone().unwrap_or_default(),
        buildargs: Some(
            request
                .build_args
                .iter()
                .cloned()
                .collect::<HashMap<_, _>>(),
        ),
        networkmode: request.network.clone(),
        nocache: request.no_cache,
        rm: true,
        forcerm: true,
        version: BuilderVersion::BuilderV1,
        ..BuildImageOptions::default()
    }
}

impl Engine for DockerEngine {
    type Error = DockerError;

    fn build(
        &self,
        request: &BuildRequest,
        context: Vec<u8>,
        on_event: &mut dyn FnMut(BuildEvent),
    ) -> Result<(), DockerError> {
        self.block_on(async {
            let docker = self.connect().await?;
            let mut stream =
                docker.build_image(options(request), None, Some(body_full(context.into())));
            let mut image_id = None;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => {
                        if let Some(text) = info.stream {
                            on_event(BuildEvent::Output(text));
                        }
                        if let Some(id) = info.aux.and_then(|a| a.id) {
                            image_id = Some(id.clone());
                            on_event(BuildEvent::ImageId(id));
                        }
                    }
                    Err(bollard::errors::Error::DockerStreamError { error }) => {
                        on_event(BuildEvent::Error(error));
                        return Ok(());
                    }
                    Err(e) => {
                        return Err(DockerError::Request {
                            host: self.host.clone(),
                            reason: chain(&e),
                        })
                    }
                }
            }
            if let Some(id) = image_id {
                for tag in request.tags.iter().skip(1) {
                    let (repo, tag) = match tag.rsplit_once(':') {
                        Some((r, t)) if !t.contains('/') => (r, t),
                        _ => (tag.as_str(), "latest"),
                    };
                    let opts = bollard::query_parameters::TagImageOptions {
                        repo: Some(repo.to_string()),
                        tag: Some(tag.to_string()),
                    };
                    docker
                        .tag_image(&id, Some(opts))
                        .await
                        .map_err(|e| DockerError::Request {
                            host: self.host.clone(),
                            reason: chain(&e),
                        })?;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_carry_the_request() {
        let o = options(&BuildRequest {
            dockerfile: ".iocforge/Dockerfile".into(),
            target: Some("developer".into()),
            tags: vec!["a:1".into(), "b".into()],
            build_args: vec![("K".into(), "V".into())],
            network: Some("host".into()),
            no_cache: true,
        });
        assert_eq!(o.dockerfile, ".iocforge/Dockerfile");
        assert_eq!(o.t.as_deref(), Some("a:1"));
        assert_eq!(o.target, "developer");
        assert_eq!(o.networkmode.as_deref(), Some("host"));
        assert_eq!(o.buildargs.unwrap()["K"], "V");
        assert!(o.nocache && o.rm);
        assert_eq!(o.version, BuilderVersion::BuilderV1);
    }

    #[test]
    fn an_absent_daemon_is_unreachable() {
        let engine = DockerEngine {
            host: "unix:///nonexistent/docker.sock".into(),
        };
        let err = engine.ping().unwrap_err();
        assert!(matches!(err, DockerError::Unreachable { .. }), "{err}");
        assert!(err
            .to_string()
            .starts_with("cannot reach the Docker daemon at `unix:///nonexistent/docker.sock`"));
    }
}
