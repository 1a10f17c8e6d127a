//! Temporary directories (`tempfile`), removed when dropped unless
//! `TESSERA_TEST_KEEP` is set (to look at what a failing test left).

use std::path::{Path, PathBuf};

/// A fresh directory under the system's temp dir, named after the test.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// `tessera-<tag>-XXXXXX`, created.
    pub fn new(tag: &str) -> TempDir {
        let mut dir = tempfile::Builder::new()
            .prefix(&format!("tessera-{tag}-"))
            .tempdir()
            .expect("create a temp dir");
        if std::env::var_os("TESSERA_TEST_KEEP").is_some()
            || std::env::var_os("TESSERA_INTEROP_KEEP").is_some()
        {
            dir.disable_cleanup(true);
        }
        // 0755 as `create_dir_all` makes it (tempfile's 0700 would keep
        // out the `postgres` user a private cluster runs as).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod the temp dir");
        }
        TempDir(dir)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        self.0.path()
    }

    /// `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    /// `name` inside the directory, as the string a command line takes.
    pub fn path(&self, name: &str) -> String {
        self.join(name).to_string_lossy().into_owned()
    }

    /// Writes `contents` to `name` inside the directory; its path.
    pub fn write(&self, name: &str, contents: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write a file in the temp dir");
        p
    }
}
