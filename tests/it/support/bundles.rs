//! Bundles as someone else wrote them: a real export from a laptop home, opened so that a
//! test can change what it holds, sealed again and imported into another home.

use age::secrecy::ExposeSecret;
use mcpauth::bundle::{self, Bundle, Key, Lock};

use super::{Fixture, RunOutput, TestEnv};

pub struct Exported {
    sealed: String,
    identity: age::x25519::Identity,
}

impl Exported {
    /// Signs a fresh laptop home in to `fx` as `demo` and exports a copy of that grant,
    /// sealed to a key this value holds.
    pub fn from_laptop(fx: &Fixture) -> Self {
        let laptop = TestEnv::new();
        laptop.add_server("demo", &fx.mcp_url());
        let out = laptop.run(&["login", "demo"]);
        assert_eq!(out.code, Some(0), "{out:?}");
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        let out = laptop.run(&["export", "demo", "--copy", "--recipient", &recipient]);
        assert_eq!(out.code, Some(0), "{out:?}");
        Self {
            sealed: out.stdout,
            identity,
        }
    }

    /// The bundle as exported, with `edit` applied, imported into `server` with the key
    /// (which goes into `server`'s home).
    pub fn import_edited(&self, server: &TestEnv, edit: impl FnOnce(&mut Bundle)) -> RunOutput {
        let key = Key::Identities {
            path: "test".into(),
            identities: vec![Box::new(self.identity.clone())],
        };
        let mut b = bundle::open(self.sealed.as_bytes(), &key).expect("open the export");
        edit(&mut b);
        let mut sealed = Vec::new();
        let lock = Lock::Recipients(vec![Box::new(self.identity.to_public())]);
        bundle::seal(&b, &lock, &mut sealed).expect("seal the edited bundle");
        let key_file = server.home().join("key.txt");
        std::fs::write(&key_file, self.identity.to_string().expose_secret()).unwrap();
        let file = server.home().join("bundle.age");
        std::fs::write(&file, &sealed).unwrap();
        server.run(&[
            "import",
            file.to_str().unwrap(),
            "--identity",
            key_file.to_str().unwrap(),
        ])
    }
}
