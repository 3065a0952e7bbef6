//! A console browser for the server's tests: its own cookie, no redirects followed.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::blocking::{Client, Response};
use reqwest::header;

use super::Server;

/// A browser: signed in with its own cookie, never following redirects (the tests look at them).
pub struct Browser {
    http: Client,
    base: String,
    cookie: String,
}

impl Browser {
    pub fn sign_in(server: &Server, user: &str) -> Browser {
        Browser::sign_in_at(&server.url, user, "gridpatrol")
    }

    /// Signs in to the console at `url` as `user` with `password`.
    pub fn sign_in_at(url: &str, user: &str, password: &str) -> Browser {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = http
            .post(format!("{url}/console/login"))
            .form(&[("user_id", user), ("password", password)])
            .send()
            .unwrap();
        assert_eq!(res.status(), 303, "{user} signs in");
        let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        Browser {
            http,
            base: url.to_string(),
            cookie: cookie.split(';').next().unwrap().to_string(),
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .send()
            .unwrap()
    }

    pub fn page(&self, path: &str) -> String {
        let res = self.get(path);
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().unwrap()
    }

    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .form(form)
            .send()
            .unwrap()
    }

    /// Posts a case's action form as a browser does: a refusal redirects to the case's page
    /// with the reason (post/redirect/get), which is followed and returned; anything else
    /// comes back as it is.
    pub fn act(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let res = self.post(path, form);
        let to = res
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .filter(|l| l.contains("?problem="))
            .map(String::from);
        match to {
            Some(to) => self.get(&to),
            None => res,
        }
    }

    /// Posts a multipart form (as a file upload does): each part a name, a file name for a
    /// file, and its bytes.
    pub fn post_multipart(&self, path: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Response {
        let boundary = "gridpatrol-test-boundary-7d3f";
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let disposition = match file {
                Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
                None => format!("form-data; name=\"{name}\""),
            };
            body.extend_from_slice(
                format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.http
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .unwrap()
    }

    /// Hands case `id` back to the grid, as an officer does on its page (deadline in ten days
    /// of `phone`'s today); the status the console answers.
    pub fn hand_back(&self, phone: &gridpatrol_core::Store, id: uuid::Uuid) -> u16 {
        let detail = format!("/console/hazards/{id}");
        let csrf = self.csrf(&detail);
        let deadline = phone.today().plus(10).to_string();
        self.post(
            &format!("{detail}/act"),
            &[
                ("csrf", csrf.as_str()),
                ("verb", "hand_back"),
                ("to", "grid"),
                ("guidance", "请督促业主清理通道"),
                ("deadline", &deadline),
            ],
        )
        .status()
        .as_u16()
    }

    /// The form key on a page.
    pub fn csrf(&self, path: &str) -> String {
        let page = self.page(path);
        let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        page[at..at + 64].to_string()
    }
}
