//! Who may read and who may send a photo, and how much each user may store. A photo belongs to
//! the record that first cited it (`core::server::Records::photo_home`): whoever may read that
//! record may read the photo, and only the device that made it may send the display copy and
//! the thumbnail, which, unlike the original, no hash in the log vouches for (the console shows
//! them as the photo). The original is checked against its name, so any device that may read
//! it or whose own op cites it may send it. What a user's records cite counts against their
//! quota, in every variant and unfinished uploads too, so one account cannot fill the disk.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gridpatrol_core::server::PhotoHome;

use crate::backend::{ApiError, Session};
use crate::serve;

/// The most photo bytes one user's records may hold on the server by default: years of a
/// worker's daily patrols with photos, yet a bound on what one account (or a stolen token)
/// can make the server keep. `--photo-quota-bytes` sets another.
pub const PHOTO_QUOTA_BYTES: u64 = 16 << 30;

/// How long a user's counted usage is trusted before it is counted again from the files (in
/// between, what they send is added to it).
const RECOUNT_AFTER: Duration = Duration::from_secs(600);

/// May `session` read photo `hash`, which belongs where `home` says?
pub fn may_read(session: &Session, hash: &str, home: Option<&PhotoHome>) -> Result<(), ApiError> {
    serve::photo_access(session, hash, || {
        Ok(home.map(|h| h.grids.clone()).unwrap_or_default())
    })
}

/// May `session` send `variant` of photo `hash`? A display copy or a thumbnail only from the
/// device that took it; an original only from a device, or a person, whose own op cites it
/// (`cited_here`, asked only when needed): someone who may only read the photo could otherwise
/// append to the upload in progress and spoil it, over and over.
pub fn may_send(
    session: &Session,
    hash: &str,
    variant: &str,
    home: Option<&PhotoHome>,
    cited_here: impl FnOnce() -> Result<bool, ApiError>,
) -> Result<(), ApiError> {
    if variant != "original" {
        gridpatrol_core::checklist::check_photo_ref(hash)
            .map_err(|_| ApiError::bad_request("photo hash"))?;
        return match home {
            Some(h) if h.device_id == session.device_id => Ok(()),
            Some(_) => Err(ApiError::new(
                403,
                "not_photo_device",
                "只有拍摄这张照片的手机可以上传它的显示图和缩略图",
                "only the phone that took this photo may send its display copy and thumbnail",
            )),
            None => may_read(session, hash, None),
        };
    }
    if home.is_some_and(|h| h.device_id == session.device_id) || cited_here()? {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "not_photo_device",
            "只有记录中引用这张照片的人可以上传它的原图",
            "only someone whose own records cite this photo may send its original",
        ))
    }
}

/// The refusal of an upload that would take a user past their quota: a 413 (a limit on what
/// is sent) rather than a 507, which a phone would take for the server's trouble and retry.
pub fn quota_full(quota: u64) -> ApiError {
    let gb = quota as f64 / f64::from(1u32 << 30);
    ApiError::new(
        413,
        "photo_quota",
        &format!("您的照片存储空间已满（上限 {gb:.1} GB），请联系乡镇管理员"),
        &format!("your photo storage is full (limit {gb:.1} GB); ask the township's administrator"),
    )
}

/// Each user's photo bytes on the server, counted from the files now and then and kept up to
/// date with what they send in between. Counted per instance: instances sharing a photo
/// folder each hold a user to the quota, so together they may let a little more through.
pub struct Quota {
    limit: u64,
    used: Mutex<HashMap<String, (Instant, u64)>>,
}

impl Quota {
    pub fn new(limit: u64) -> Quota {
        Quota {
            limit,
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses sending `more` bytes for `user_id` when that would pass the quota; `count`
    /// counts what their records hold now, when the last count is too old.
    pub fn check(
        &self,
        user_id: &str,
        more: u64,
        count: impl FnOnce() -> Result<u64, ApiError>,
    ) -> Result<(), ApiError> {
        let known = self
            .lock()
            .get(user_id)
            .filter(|(at, _)| at.elapsed() < RECOUNT_AFTER)
            .map(|(_, bytes)| *bytes);
        let used = match known {
            Some(bytes) => bytes,
            None => {
                let bytes = count()?;
                self.lock()
                    .insert(user_id.to_string(), (Instant::now(), bytes));
                bytes
            }
        };
        if used.saturating_add(more) > self.limit {
            return Err(quota_full(self.limit));
        }
        Ok(())
    }

    /// Adds `bytes` just stored for `user_id`.
    pub fn add(&self, user_id: &str, bytes: u64) {
        if let Some((_, used)) = self.lock().get_mut(user_id) {
            *used = used.saturating_add(bytes);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, u64)>> {
        self.used.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One chunk of a photo upload: which file (`variant`, with the hash the whole file must
/// have, `expect`), where it goes (`offset` of `total` bytes), and its bytes.
pub struct Chunk<'a> {
    pub variant: &'a str,
    pub expect: &'a str,
    pub offset: u64,
    pub total: u64,
    pub bytes: &'a [u8],
}
