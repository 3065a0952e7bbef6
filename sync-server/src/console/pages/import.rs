//! The 底数清单 import, for township officers: the template to download, the filled file
//! uploaded and checked (every bad row listed, nothing written), a preview of what would change
//! with a button to confirm, and the confirmation, which shows each new person's first
//! password once. The file travels back with the confirmation (hex in a hidden field), so the
//! officer never chooses it twice, and it is checked again against the records as they are then.

use axum::extract::{Multipart, State};
use axum::response::Response;
use maud::{html, Markup};

use super::admin::officers_only;
use super::exports::download;
use crate::console::layout::{alert, page};
use crate::console::{blocking, view, ApiError, Me, Page, Refused, Shared};
use crate::import::{self, Book, Problem};

fn upload_form(me: &Me) -> Markup {
    html! {
        form.filters method="post" action="/console/admin/import" enctype="multipart/form-data" {
            (me.csrf_field())
            label { "文件" input type="file" name="file" accept=".xlsx,.csv" required; }
            button type="submit" { "检查并预览" }
        }
    }
}

pub async fn import_page(State(b): State<Shared>, me: Me) -> Result<Page, Refused> {
    officers_only(&me)?;
    view(b, me, move |v| {
        let body = html! {
            h1 { "底数导入" }
            section.card {
                h2 { "1. 下载模板" }
                p.muted { "模板含 村社区、网格、场所、人员 四张表，每张表有示例行（以“（示例）”开头的行不会导入）和下拉选项。" }
                p { a href="/console/admin/import/template.xlsx" { "下载导入模板" } }
            }
            section.card {
                h2 { "2. 上传并预览" }
                p.muted { "先检查全部行，有任何一行不合格则不导入；同一文件导入两次不会重复。" }
                (upload_form(v.me))
            }
        };
        Ok(page("底数导入", v, "/console/admin/import", body))
    })
    .await
}

pub async fn template(me: Me) -> Result<Response, Refused> {
    officers_only(&me)?;
    let bytes = import::template::xlsx().map_err(|_| ApiError::internal())?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "register-template.xlsx",
        "底数清单导入模板.xlsx",
    ))
}

/// What an upload form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    name: String,
    bytes: Vec<u8>,
    confirm: bool,
}

async fn read_upload(mut form: Multipart) -> Result<Upload, ApiError> {
    let bad = |_| ApiError::bad_request("form");
    let mut up = Upload::default();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => up.csrf = field.text().await.map_err(bad)?,
            "file" => {
                up.name = field.file_name().unwrap_or_default().to_string();
                up.bytes = field.bytes().await.map_err(bad)?.to_vec();
            }
            "name" => up.name = field.text().await.map_err(bad)?,
            "data" => {
                up.bytes = hex::decode(field.text().await.map_err(bad)?.trim())
                    .map_err(|_| ApiError::bad_request("data"))?;
                up.confirm = true;
            }
            _ => {}
        }
    }
    Ok(up)
}

fn problems_list(problems: &[Problem]) -> Markup {
    html! {
        (alert(
            &format!("发现 {} 处问题，未导入任何内容。请修改后重新上传。", problems.len()),
            &format!("{} problem(s) found; nothing was imported. Correct them and upload again.", problems.len()),
        ))
        ol.problems {
            @for p in problems {
                li { (p.zh_line()) br; span lang="en" { (p.en_line()) } }
            }
        }
    }
}

pub async fn upload(State(b): State<Shared>, me: Me, form: Multipart) -> Result<Page, Refused> {
    officers_only(&me)?;
    let up = read_upload(form).await?;
    me.check_csrf(&up.csrf)?;
    let officer = me.actor().user_id.clone();
    // Check, and on confirmation apply, off the async runtime.
    let b2 = b.clone();
    let outcome = blocking(move || {
        let store = b2.records()?;
        let mut book = Book::default();
        let checked = book
            .add_file(&up.name, &up.bytes)
            .map_err(|p| vec![p])
            .and_then(|()| import::check(store, &officer, &book));
        Ok(match checked {
            Err(problems) => Outcome::Problems(problems),
            Ok(plan) if !up.confirm || plan.summary().is_empty() => Outcome::Preview {
                summary: plan.summary(),
                name: up.name,
                data: hex::encode(&up.bytes),
            },
            Ok(plan) => {
                let summary = plan.summary();
                Outcome::Done(summary, b2.import_register(plan)?)
            }
        })
    })
    .await?;
    view(b, me, move |v| {
        let body = match outcome {
            Outcome::Problems(p) => html! {
                h1 { "底数导入" }
                section.card { (problems_list(&p)) (upload_form(v.me)) }
            },
            Outcome::Preview { summary, name, data } => html! {
                h1 { "预览" }
                section.card {
                    p { (summary.zh()) br; span lang="en" { (summary.en()) } }
                    @if summary.is_empty() {
                        p.msg role="status" { "与现有记录一致，无需导入。" }
                    } @else {
                        form method="post" action="/console/admin/import" enctype="multipart/form-data" {
                            (v.me.csrf_field())
                            input type="hidden" name="name" value=(name);
                            input type="hidden" name="data" value=(data);
                            button type="submit" { "确认导入" }
                        }
                    }
                    p { a href="/console/admin/import" { "重新选择文件" } }
                }
            },
            Outcome::Done(summary, passwords) => html! {
                h1 { "已导入" }
                section.card {
                    p { (summary.zh()) br; span lang="en" { (summary.en()) } }
                    @if !passwords.is_empty() {
                        h2 { "新账号的初始密码" }
                        p.muted { "只显示这一次，请交给本人。" }
                        table {
                            thead { tr { th scope="col" { "账号" } th scope="col" { "初始密码" } } }
                            tbody {
                                @for (id, pw) in &passwords {
                                    tr { td { (id) } td { code { (pw) } } }
                                }
                            }
                        }
                    }
                }
            },
        };
        Ok(page("底数导入", v, "/console/admin/import", body))
    })
    .await
}

enum Outcome {
    Problems(Vec<Problem>),
    Preview {
        summary: import::Summary,
        name: String,
        data: String,
    },
    Done(import::Summary, Vec<(String, String)>),
}
