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
use std::path::{Path, PathBuf};

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

/// The regular files of a folder read out of an image, by path below the folder.
pub type ImageFiles = Vec<(PathBuf, Vec<u8>)>;

/// Bounds on what [`DockerEngine::read_image_dirs`] takes from an image.
const MAX_IMAGE_DIR_BYTES: u64 = 256 * 1024 * 1024;
/// Symlinks followed one after another before giving up (as the kernel's 40, lower).
const MAX_LINK_HOPS: usize = 8;

impl DockerEngine {
    /// The ID (`sha256:...`) of an image present in the daemon, or `None`
    /// when it is not there.
    pub fn image_id(&self, image: &str) -> Result<Option<String>, DockerError> {
        self.block_on(async {
            let docker = self.connect().await?;
            match docker.inspect_image(image).await {
                Ok(i) => Ok(i.id),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => Ok(None),
                Err(e) => Err(self.request(&e)),
            }
        })
    }

    /// Pulls an image from its registry (as `docker pull`).
    pub fn pull_image(&self, image: &str) -> Result<(), DockerError> {
        self.block_on(async {
            let docker = self.connect().await?;
            let opts = bollard::query_parameters::CreateImageOptions {
                from_image: Some(image.to_string()),
                ..Default::default()
            };
            let mut stream = docker.create_image(Some(opts), None, None);
            while let Some(item) = stream.next().await {
                item.map_err(|e| self.request(&e))?;
            }
            Ok(())
        })
    }

    fn request(&self, e: &dyn std::error::Error) -> DockerError {
        DockerError::Request {
            host: self.host.clone(),
            reason: chain(e),
        }
    }

    /// Reads folders of an image without running it: creates one container
    /// (never started), downloads each folder's archive, removes the
    /// container. Each folder gives its regular files (symlinks followed
    /// inside the image, as the image's programs would see them), or `None`
    /// when the image has no such folder. Entries whose path would leave the
    /// folder are dropped.
    pub fn read_image_dirs(
        &self,
        image: &str,
        dirs: &[&str],
    ) -> Result<Vec<Option<ImageFiles>>, DockerError> {
        self.block_on(async {
            let docker = self.connect().await?;
            let body = bollard::models::ContainerCreateBody {
                image: Some(image.to_string()),
                cmd: Some(vec!["/bin/true".to_string()]),
                ..Default::default()
            };
            let id = docker
                .create_container(None, body)
                .await
                .map_err(|e| self.request(&e))?
                .id;
            let mut out = Vec::new();
            let mut failure = None;
            for dir in dirs {
                match self.read_dir(&docker, &id, dir).await {
                    Ok(files) => out.push(files),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let remove = bollard::query_parameters::RemoveContainerOptions {
                force: true,
                ..Default::default()
            };
            let _ = docker.remove_container(&id, Some(remove)).await;
            failure.map_or(Ok(out), Err)
        })
    }

    /// The archive of `path` in container `id`, or `None` when it does not exist.
    async fn archive(
        &self,
        docker: &Docker,
        id: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, DockerError> {
        let opts = bollard::query_parameters::DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let mut stream = docker.download_from_container(id, Some(opts));
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => {
                    bytes.extend_from_slice(&c);
                    if bytes.len() as u64 > MAX_IMAGE_DIR_BYTES {
                        return Err(DockerError::Request {
                            host: self.host.clone(),
                            reason: format!("`{path}` is over {MAX_IMAGE_DIR_BYTES} bytes"),
                        });
                    }
                }
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(None),
                Err(e) => return Err(self.request(&e)),
            }
        }
        Ok(Some(bytes))
    }

    /// One folder's regular files, symlinks resolved in the image.
    async fn read_dir(
        &self,
        docker: &Docker,
        id: &str,
        dir: &str,
    ) -> Result<Option<ImageFiles>, DockerError> {
        let Some(archive) = self.archive(docker, id, dir).await? else {
            return Ok(None);
        };
        let mut files = Vec::new();
        for entry in tar_entries(&archive).map_err(|e| self.request(&e))? {
            // the archive's paths start with the folder's own name
            let Some(rel) = inside(&entry.path, 1) else {
                continue;
            };
            let mut entry = entry;
            let mut at = Path::new(dir).join(&rel);
            let mut hops = 0;
            while let TarItem::Link(target) = &entry.item {
                hops += 1;
                if hops > MAX_LINK_HOPS {
                    break;
                }
                let target =
                    crate::contain::normalize(&at.parent().unwrap_or(Path::new("/")).join(target));
                let Some(archive) = self.archive(docker, id, &target.to_string_lossy()).await?
                else {
                    break;
                };
                let Some(first) = tar_entries(&archive)
                    .map_err(|e| self.request(&e))?
                    .into_iter()
                    .next()
                else {
                    break;
                };
                at = target;
                entry = first;
            }
            if let TarItem::File(bytes) = entry.item {
                files.push((rel, bytes));
            }
        }
        files.sort();
        Ok(Some(files))
    }
}

/// What a tar entry holds, as far as reading an image folder cares.
enum TarItem {
    File(Vec<u8>),
    Link(PathBuf),
    Other,
}

struct TarEntry {
    path: PathBuf,
    item: TarItem,
}

fn tar_entries(archive: &[u8]) -> std::io::Result<Vec<TarEntry>> {
    use std::io::Read as _;
    let mut out = Vec::new();
    let mut tar = tar::Archive::new(archive);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let kind = entry.header().entry_type();
        let item = if kind.is_file() {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            TarItem::File(bytes)
        } else if kind.is_symlink() {
            entry
                .link_name()?
                .map_or(TarItem::Other, |l| TarItem::Link(l.into_owned()))
        } else {
            TarItem::Other
        };
        out.push(TarEntry { path, item });
    }
    Ok(out)
}

/// `path` without its first `skip` components, when the whole of it is a
/// plain relative path (no `..`, no root): an archive entry cannot name a
/// place outside the folder it came from.
fn inside(path: &Path, skip: usize) -> Option<PathBuf> {
    use std::path::Component;
    let parts: Vec<Component> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    if parts.iter().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let rel: PathBuf = parts.iter().skip(skip).collect();
    (!rel.as_os_str().is_empty()).then_some(rel)
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
    fn archive_paths_stay_inside_their_folder() {
        assert_eq!(
            inside(Path::new("ibek-defs/asyn.ibek.support.yaml"), 1),
            Some(PathBuf::from("asyn.ibek.support.yaml"))
        );
        assert_eq!(inside(Path::new("ibek-defs"), 1), None);
        assert_eq!(inside(Path::new("ibek-defs/../../etc/passwd"), 1), None);
        assert_eq!(inside(Path::new("/ibek-defs/x"), 1), None);
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
