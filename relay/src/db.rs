//! Storage: one code path for SQLite (the default: one file, WAL) and PostgreSQL (a
//! `postgres://` URL), through sqlx's `Any` driver. Only portable SQL is used: `$n`
//! placeholders (SQLite reads them too), TEXT and BIGINT columns, `ON CONFLICT` upserts.
//! Every write that a 2xx answer acknowledges is committed before the answer is sent.

use crate::hot::{Hot, HotDevice};
pub use crate::row::DeviceRow;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Group-commit writers with PostgreSQL.
const PG_POLL_WRITERS: usize = 4;

/// Most polls written in one transaction by the group-commit writer.
const POLL_BATCH: usize = 64;

/// The schema, statement by statement; every statement is idempotent.
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS orgs (org TEXT PRIMARY KEY, root_version BIGINT NOT NULL, \
     root_keys TEXT NOT NULL, root_threshold BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS devices (org TEXT NOT NULL, device_id TEXT NOT NULL, \
     enrollment_id TEXT NOT NULL, mode TEXT NOT NULL, device_key TEXT, key_accepted BIGINT NOT NULL, \
     enroll_response TEXT, announced_at BIGINT NOT NULL, enrolled_at BIGINT, last_seen BIGINT, \
     last_checkin BIGINT, report TEXT, challenge TEXT, challenge_expires BIGINT, policy_version BIGINT, \
     root_version BIGINT, PRIMARY KEY (org, device_id))",
    "CREATE TABLE IF NOT EXISTS queue (org TEXT NOT NULL, id TEXT NOT NULL, target TEXT NOT NULL, \
     kind TEXT NOT NULL, version BIGINT NOT NULL, key_id TEXT NOT NULL, detail TEXT NOT NULL, \
     body TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (org, id))",
    "CREATE INDEX IF NOT EXISTS queue_target ON queue (org, target)",
    "CREATE TABLE IF NOT EXISTS staff (org TEXT NOT NULL, target TEXT NOT NULL, mode TEXT NOT NULL, \
     version BIGINT NOT NULL, key_id TEXT NOT NULL, pubkey TEXT NOT NULL, roles TEXT NOT NULL, \
     expires_at BIGINT NOT NULL, PRIMARY KEY (org, target, mode, key_id))",
    "CREATE INDEX IF NOT EXISTS staff_key ON staff (org, key_id)",
    "CREATE TABLE IF NOT EXISTS deliveries (org TEXT NOT NULL, id TEXT NOT NULL, device_id TEXT NOT NULL, \
     delivered_at BIGINT NOT NULL, PRIMARY KEY (org, id, device_id))",
    "CREATE TABLE IF NOT EXISTS receipts (org TEXT NOT NULL, device_id TEXT NOT NULL, receipt_id TEXT NOT NULL, \
     command_id TEXT NOT NULL, requested TEXT NOT NULL, outcome TEXT NOT NULL, performed TEXT NOT NULL, \
     body TEXT NOT NULL, received_at BIGINT NOT NULL, PRIMARY KEY (org, device_id, receipt_id))",
    "CREATE TABLE IF NOT EXISTS nonces (principal TEXT NOT NULL, nonce TEXT NOT NULL, expires_at BIGINT NOT NULL, \
     PRIMARY KEY (principal, nonce))",
    "CREATE TABLE IF NOT EXISTS push_tokens (org TEXT NOT NULL, device_id TEXT NOT NULL, platform TEXT NOT NULL, \
     token TEXT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (org, device_id))",
    // Poll sessions (docs/relay-protocol.md): bound to the device's enrollment and key as
    // stored when issued; the poll's write still matches both against `devices`.
    "CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, org TEXT NOT NULL, device_id TEXT NOT NULL, \
     enrollment_id TEXT NOT NULL, device_key TEXT NOT NULL, session_key TEXT NOT NULL, expires_at BIGINT NOT NULL)",
];

/// A poll session as stored. `session_key` is the HMAC key (hex): it is never logged and never
/// shown in the fleet view (`Debug` leaves it out).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Session id, hex.
    pub sid: String,
    /// The organisation.
    pub org: String,
    /// The device, hex.
    pub device_id: String,
    /// Its enrollment when issued, hex.
    pub enrollment_id: String,
    /// Its device key when issued, hex.
    pub device_key: String,
    /// The HMAC key, hex. Secret.
    pub session_key: String,
    /// Expiry, unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("sid", &self.sid)
            .field("org", &self.org)
            .field("device_id", &self.device_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The database.
#[derive(Clone)]
pub struct Db {
    /// The pool reads use (and, with PostgreSQL, writes too).
    pub pool: AnyPool,
    /// The pool writes use. With SQLite it is one connection: SQLite has one writer at a time,
    /// and connections that contend for its lock wait in its busy handler, which sleeps (1, 2,
    /// 5, 10 … ms) rather than queueing; one writer connection makes writers queue in order in
    /// the pool instead, which is what kept the poll latency's tail long. With PostgreSQL it is
    /// the same pool as `pool`.
    pub writer: AnyPool,
    /// Which backend.
    pub backend: Backend,
    /// Polls to record, for the group-commit writers (`poll_writer`): one with SQLite (one
    /// writer connection), several with PostgreSQL, whose commits wait for its WAL flush and
    /// can overlap.
    polls: Arc<[mpsc::Sender<PollWrite>]>,
    /// Which writer the next poll goes to.
    next_writer: Arc<AtomicUsize>,
    /// The poll's hot state in memory (`hot`): only for the relay process on SQLite, which holds
    /// the database file's lock (`open_relay`); `None` with PostgreSQL and for tools.
    hot: Option<Arc<Hot>>,
    /// The lock on `<file>.relay-lock` that keeps a second relay process off the SQLite file;
    /// released when the process ends, however it ends.
    _lock: Option<Arc<std::fs::File>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// What recording a poll found.
#[derive(Debug)]
pub enum Polled {
    /// Recorded: the device as it is now, whether anything may be waiting in its queue
    /// (false: nothing is; true: read the queue), and whether the poll session offered with
    /// the write was stored (PostgreSQL; always false without one).
    Recorded(Box<DeviceRow>, bool, bool),
    /// The nonce was used already: a replay. Nothing was written.
    Replayed,
    /// The device no longer has this enrollment id and key (re-enrolled, re-keyed or removed,
    /// perhaps through another relay process). Nothing was written.
    Stale,
    /// Only the nonce was written, and it was fresh (SQLite: the rest of the poll is recorded
    /// in the process's memory, `hot`).
    Noted,
}

/// A queued object.
#[derive(Debug, Clone)]
pub struct QueueRow {
    /// Id (command id, or `p:`/`r:` for policies and rotations).
    pub id: String,
    /// Device id or `*`.
    pub target: String,
    /// `command`, `policy` or `root`.
    pub kind: String,
    /// Seq, policy version or root version.
    pub version: i64,
    /// Signing key id (hex).
    pub key_id: String,
    /// Command action, or policy mode.
    pub detail: String,
    /// The `QL:` text.
    pub body: String,
    /// When queued.
    pub created_at: i64,
    /// When it expires.
    pub expires_at: i64,
}

fn device_row(r: &AnyRow) -> Result<DeviceRow, sqlx::Error> {
    Ok(DeviceRow {
        device_id: r.try_get("device_id")?,
        enrollment_id: r.try_get("enrollment_id")?,
        mode: r.try_get("mode")?,
        device_key: r.try_get("device_key")?,
        key_accepted: r.try_get::<i64, _>("key_accepted")? != 0,
        enroll_response: r.try_get("enroll_response")?,
        announced_at: r.try_get("announced_at")?,
        enrolled_at: r.try_get("enrolled_at")?,
        last_seen: r.try_get("last_seen")?,
        last_checkin: r.try_get("last_checkin")?,
        report: r.try_get("report")?,
        policy_version: r.try_get("policy_version")?,
        root_version: r.try_get("root_version")?,
    })
}

fn queue_row(r: &AnyRow) -> Result<QueueRow, sqlx::Error> {
    Ok(QueueRow {
        id: r.try_get("id")?,
        target: r.try_get("target")?,
        kind: r.try_get("kind")?,
        version: r.try_get("version")?,
        key_id: r.try_get("key_id")?,
        detail: r.try_get("detail")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

const DEVICE_COLS: &str = "device_id, enrollment_id, mode, device_key, key_accepted, enroll_response, announced_at, \
     enrolled_at, last_seen, last_checkin, report, policy_version, root_version";
/// A poll's write: it matches only while the device keeps the enrollment id and key the
/// request was verified with (`RETURNING`: SQLite 3.35+ and PostgreSQL). `waiting` counts
/// what `phone::waiting` could hand out (a superset: unanswered commands, policies of the
/// device's mode newer than the one it reported, newer rotations), so that a poll with nothing
/// waiting, the usual one, needs no second query.
static POLL_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "UPDATE devices SET last_seen = $3, challenge = $4, challenge_expires = $5 \
         WHERE org = $1 AND device_id = $2 AND enrollment_id = $6 AND device_key = $7 RETURNING {DEVICE_COLS}, \
         (SELECT COUNT(*) FROM queue q WHERE q.org = $1 AND (q.target = $2 OR q.target = '*') AND q.expires_at > $3 \
          AND ((q.kind = 'command' AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.org = $1 AND r.device_id = $2 \
                AND r.command_id = q.id)) \
           OR (q.kind = 'policy' AND q.detail = devices.mode \
                AND (devices.policy_version IS NULL OR q.version > devices.policy_version)) \
           OR (q.kind = 'root' AND (devices.root_version IS NULL OR q.version > devices.root_version)))) AS waiting"
    )
});

const INSERT_SESSION_SQL: &str = "INSERT INTO sessions (sid, org, device_id, enrollment_id, device_key, session_key, \
     expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

fn bind_session<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    s: &'q SessionRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&s.sid)
        .bind(&s.org)
        .bind(&s.device_id)
        .bind(&s.enrollment_id)
        .bind(&s.device_key)
        .bind(&s.session_key)
        .bind(s.expires_at)
}

/// The device and "may anything be waiting?" as a poll's write returns them, read without
/// writing: how the hot state (`hot`) fills a miss.
static DEVICE_WAITING_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let from = POLL_SQL.split_once(" RETURNING ").map(|(_, r)| r).unwrap_or_default();
    format!("SELECT {from} FROM devices WHERE org = $1 AND device_id = $2")
});

/// One poll to record (`Db::polled`).
struct PollWrite {
    org: String,
    device_id: String,
    enrollment_id: String,
    device_key: String,
    principal: String,
    nonce: String,
    nonce_expires: i64,
    now: i64,
    challenge: String,
    expires: i64,
    /// A poll session to store with the poll (a `QL-Device` poll, PostgreSQL).
    session: Option<SessionRow>,
    /// Only the nonce is written (SQLite: the rest of the poll is recorded in memory).
    nonce_only: bool,
    reply: oneshot::Sender<Result<Polled, sqlx::Error>>,
}

/// The group-commit writer: takes the polls waiting (up to `POLL_BATCH`), writes them in one
/// transaction, and answers each only after the commit. Under load many polls share one
/// commit; alone, a poll is one transaction as before.
async fn poll_writer(pool: AnyPool, mut rx: mpsc::Receiver<PollWrite>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < POLL_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        // Devices in one order in every batch: concurrent batches (several writers, or several
        // relay processes on one PostgreSQL) then take row locks in the same order and never
        // deadlock on two devices each of them updates.
        batch.sort_by(|a, b| (&a.org, &a.device_id).cmp(&(&b.org, &b.device_id)));
        match write_polls(&pool, &batch).await {
            Ok(results) => {
                for (w, r) in batch.into_iter().zip(results) {
                    let _ = w.reply.send(Ok(r));
                }
            }
            Err(e) => {
                // Nothing was committed: every poll of the batch fails ("try again").
                let msg = e.to_string();
                for w in batch {
                    let _ = w.reply.send(Err(sqlx::Error::Io(std::io::Error::other(msg.clone()))));
                }
            }
        }
    }
}

async fn write_polls(pool: &AnyPool, batch: &[PollWrite]) -> Result<Vec<Polled>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut out = Vec::with_capacity(batch.len());
    for w in batch {
        let fresh =
            sqlx::query("INSERT INTO nonces (principal, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(&w.principal)
                .bind(&w.nonce)
                .bind(w.nonce_expires)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if !fresh {
            out.push(Polled::Replayed);
            continue;
        }
        if w.nonce_only {
            out.push(Polled::Noted);
            continue;
        }
        let row = sqlx::query(&POLL_SQL)
            .bind(&w.org)
            .bind(&w.device_id)
            .bind(w.now)
            .bind(&w.challenge)
            .bind(w.expires)
            .bind(&w.enrollment_id)
            .bind(&w.device_key)
            .fetch_optional(&mut *tx)
            .await?;
        match row {
            Some(r) => {
                let waiting: i64 = r.try_get("waiting")?;
                let row = device_row(&r)?;
                // The session issued with this poll, in the same commit (ON CONFLICT: a random
                // sid that exists already is not offered).
                let stored = match &w.session {
                    Some(s) => {
                        bind_session(sqlx::query(INSERT_SESSION_SQL), s).execute(&mut *tx).await?.rows_affected() == 1
                    }
                    None => false,
                };
                out.push(Polled::Recorded(Box::new(row), waiting > 0, stored));
            }
            None => {
                // Not this device's key any more: the nonce stays unused.
                sqlx::query("DELETE FROM nonces WHERE principal = $1 AND nonce = $2")
                    .bind(&w.principal)
                    .bind(&w.nonce)
                    .execute(&mut *tx)
                    .await?;
                out.push(Polled::Stale);
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}
const QUEUE_COLS: &str = "id, target, kind, version, key_id, detail, body, created_at, expires_at";

/// The file of a `sqlite:PATH[?…]` URL.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.split('?').next().unwrap_or(rest);
    let path = path.strip_prefix("//").unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// Takes the exclusive lock of the relay process on the SQLite file at `path` (an advisory
/// `flock` on `<file>.relay-lock`, held as long as the returned file is open).
fn lock_sqlite(path: &std::path::Path) -> Result<std::fs::File, sqlx::Error> {
    let mut name = path.as_os_str().to_owned();
    name.push(".relay-lock");
    let f =
        std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&name).map_err(sqlx::Error::Io)?;
    if try_flock(&f).map_err(sqlx::Error::Io)? {
        Ok(f)
    } else {
        Err(sqlx::Error::Configuration(
            format!(
                "another relay process is using {} (one relay process per SQLite file; use PostgreSQL for several)",
                path.display()
            )
            .into(),
        ))
    }
}

/// `flock(LOCK_EX | LOCK_NB)`: true if taken, false if another open file holds it. The lock
/// is the kernel's: it goes when the file is closed or the process ends, kill -9 included.
#[cfg(unix)]
#[allow(unsafe_code)]
fn try_flock(f: &std::fs::File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock(2) on a descriptor owned by `f`, which is open for the whole call.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Without flock(2) the one-process rule cannot be enforced: SQLite mode refuses to start.
#[cfg(not(unix))]
fn try_flock(_f: &std::fs::File) -> std::io::Result<bool> {
    Err(std::io::Error::other("the SQLite relay's process lock needs a Unix system; use PostgreSQL"))
}

impl Db {
    /// Opens (and creates) the database at `url`: `sqlite:PATH` or `postgres://…`.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(sqlx::Error::Configuration("the database URL must be sqlite:PATH or postgres://…".into()));
        };
        let url = match backend {
            // Create the file if missing.
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let options = |n: u32| {
            let opts = AnyPoolOptions::new().max_connections(n).acquire_timeout(Duration::from_secs(10));
            if backend != Backend::Sqlite {
                return opts;
            }
            opts.after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    // WAL: readers never block the writer. synchronous=NORMAL: a commit is in the
                    // WAL before the answer, so a killed process loses nothing acknowledged (only
                    // a power loss can lose the last commits; `synchronous=FULL` closes that too).
                    conn.execute("PRAGMA journal_mode=WAL").await?;
                    conn.execute("PRAGMA synchronous=NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout=10000").await?;
                    Ok(())
                })
            })
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                let writer = options(1).connect(&url).await?;
                (options(max_connections.max(1)).connect(&url).await?, writer)
            }
            Backend::Postgres => {
                let pool = options(max_connections.max(1)).connect(&url).await?;
                (pool.clone(), pool)
            }
        };
        if backend == Backend::Postgres {
            // Several relay processes starting together on a new database would race in
            // `CREATE … IF NOT EXISTS` (PostgreSQL's catalog then refuses one with a duplicate
            // key): one creates the schema at a time, under a session advisory lock.
            let mut conn = writer.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock(7351411201)").execute(&mut *conn).await?;
            let mut created = Ok(());
            for s in SCHEMA {
                if let Err(e) = sqlx::query(s).execute(&mut *conn).await {
                    created = Err(e);
                    break;
                }
            }
            sqlx::query("SELECT pg_advisory_unlock(7351411201)").execute(&mut *conn).await?;
            created?;
        } else {
            for s in SCHEMA {
                sqlx::query(s).execute(&writer).await?;
            }
        }
        let writers = if backend == Backend::Sqlite { 1 } else { PG_POLL_WRITERS };
        let polls: Vec<mpsc::Sender<PollWrite>> = (0..writers)
            .map(|_| {
                let (tx, rx) = mpsc::channel(1024);
                tokio::spawn(poll_writer(writer.clone(), rx));
                tx
            })
            .collect();
        Ok(Db {
            pool,
            writer,
            backend,
            polls: polls.into(),
            next_writer: Arc::new(AtomicUsize::new(0)),
            hot: None,
            _lock: None,
        })
    }

    /// Opens the database for the relay process. With SQLite, the process first takes an
    /// exclusive lock on `<file>.relay-lock` and refuses to start if another process holds
    /// it: the poll's hot state lives in this process's memory (`hot`), which is sound only
    /// while no other relay process writes the file. The lock goes with the process, however it
    /// ends (kill -9 included). PostgreSQL: as `open` (several stateless relay processes share
    /// one database).
    pub async fn open_relay(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        let lock = match sqlite_path(url) {
            Some(path) => Some(Arc::new(lock_sqlite(&path)?)),
            None => None,
        };
        let mut db = Self::open(url, max_connections).await?;
        if let Some(lock) = lock {
            db._lock = Some(lock);
            db.hot = Some(Arc::new(Hot::default()));
            let flusher = db.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    if let Err(e) = flusher.flush_seen().await {
                        eprintln!("quietline-relay: writing last-seen times failed (kept for the next try): {e}");
                    }
                }
            });
        }
        Ok(db)
    }

    /// The org's root set: (version, keys hex, threshold), if known.
    pub async fn org_root(&self, org: &str) -> Result<Option<(i64, Vec<String>, i64)>, sqlx::Error> {
        let r = sqlx::query("SELECT root_version, root_keys, root_threshold FROM orgs WHERE org = $1")
            .bind(org)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = r else { return Ok(None) };
        let keys: String = r.try_get("root_keys")?;
        let keys = serde_json::from_str(&keys).unwrap_or_default();
        Ok(Some((r.try_get("root_version")?, keys, r.try_get("root_threshold")?)))
    }

    /// Sets the org's root set (configuration at start, or a verified rotation).
    pub async fn set_org_root(
        &self,
        org: &str,
        version: i64,
        keys: &[String],
        threshold: i64,
    ) -> Result<(), sqlx::Error> {
        let keys = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO orgs (org, root_version, root_keys, root_threshold) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org) DO UPDATE SET root_version = $2, root_keys = $3, root_threshold = $4 \
             WHERE orgs.root_version <= $2",
        )
        .bind(org)
        .bind(version)
        .bind(keys)
        .bind(threshold)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// One device.
    pub async fn device(&self, org: &str, device_id: &str) -> Result<Option<DeviceRow>, sqlx::Error> {
        let q = format!("SELECT {DEVICE_COLS} FROM devices WHERE org = $1 AND device_id = $2");
        let r = sqlx::query(&q).bind(org).bind(device_id).fetch_optional(&self.pool).await?;
        r.as_ref().map(device_row).transpose()
    }

    /// Every device of the org (with the last-seen times the hot state still held written
    /// first, so the fleet view is current).
    pub async fn devices(&self, org: &str) -> Result<Vec<DeviceRow>, sqlx::Error> {
        self.flush_seen().await?;
        let q = format!("SELECT {DEVICE_COLS} FROM devices WHERE org = $1 ORDER BY device_id");
        let rows = sqlx::query(&q).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(device_row).collect()
    }

    /// IT announced an enrollment: a new enrollment id replaces the old one and forgets its key
    /// and reports; the same enrollment again changes nothing.
    pub async fn announce(
        &self,
        org: &str,
        device_id: &str,
        enrollment_id: &str,
        mode: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let r = sqlx::query(
            "INSERT INTO devices (org, device_id, enrollment_id, mode, key_accepted, announced_at) \
             VALUES ($1, $2, $3, $4, 0, $5) \
             ON CONFLICT (org, device_id) DO UPDATE SET enrollment_id = $3, mode = $4, device_key = NULL, \
             key_accepted = 0, enroll_response = NULL, announced_at = $5, enrolled_at = NULL, last_seen = NULL, \
             last_checkin = NULL, report = NULL, challenge = NULL, challenge_expires = NULL, policy_version = NULL, \
             root_version = NULL WHERE devices.enrollment_id <> $3",
        )
        .bind(org)
        .bind(device_id)
        .bind(enrollment_id)
        .bind(mode)
        .bind(now)
        .execute(&self.writer)
        .await;
        if let Some(hot) = &self.hot {
            hot.reset(org, device_id);
        }
        r?;
        Ok(())
    }

    /// The phone's response: stored if no key is known for this enrollment yet. Returns the
    /// key now stored.
    pub async fn store_response(
        &self,
        org: &str,
        device_id: &str,
        enrollment_id: &str,
        key: &str,
        text: &str,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE devices SET device_key = $4, enroll_response = $5, enrolled_at = $6, enrollment_id = $3 \
             WHERE org = $1 AND device_id = $2 AND device_key IS NULL",
        )
        .bind(org)
        .bind(device_id)
        .bind(enrollment_id)
        .bind(key)
        .bind(text)
        .bind(now)
        .execute(&self.writer)
        .await;
        self.invalidate(org, device_id);
        r?;
        Ok(self.device(org, device_id).await?.filter(|d| d.enrollment_id == enrollment_id).and_then(|d| d.device_key))
    }

    /// IT accepted a device key (from the response it verified itself).
    pub async fn accept_key(
        &self,
        org: &str,
        device_id: &str,
        enrollment_id: &str,
        key: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE devices SET device_key = $4, key_accepted = 1, enrolled_at = COALESCE(enrolled_at, $5) \
             WHERE org = $1 AND device_id = $2 AND enrollment_id = $3",
        )
        .bind(org)
        .bind(device_id)
        .bind(enrollment_id)
        .bind(key)
        .bind(now)
        .execute(&self.writer)
        .await;
        self.invalidate(org, device_id);
        Ok(r?.rows_affected() == 1)
    }

    /// Remembers a nonce; false if it was used already (a replay).
    pub async fn use_nonce(&self, principal: &str, nonce: &str, expires_at: i64) -> Result<bool, sqlx::Error> {
        let r =
            sqlx::query("INSERT INTO nonces (principal, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(principal)
                .bind(nonce)
                .bind(expires_at)
                .execute(&self.writer)
                .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a poll, if the device still has `enrollment_id` and `device_key` (hex): uses up
    /// its nonce, sets last seen and the new challenge for the next check-in, and returns the
    /// device as stored, committed before this returns. A replayed nonce or a device that
    /// changed (perhaps through another relay process) writes nothing. Checking the key in the
    /// same statement that records the poll is what lets a relay process keep device keys in
    /// memory (`auth::KeyCache`) without ever accepting a poll under a key the database no
    /// longer holds. Polls that arrive together are written in one transaction (group commit,
    /// `poll_writer`): the per-poll cost is two statements, not a transaction of its own.
    #[allow(clippy::too_many_arguments)]
    pub async fn polled(
        &self,
        org: &str,
        device_id: &str,
        (enrollment_id, device_key): (&str, &str),
        (principal, nonce, nonce_expires): (&str, &str, i64),
        now: i64,
        challenge: &str,
        expires: i64,
        session: Option<SessionRow>,
    ) -> Result<Polled, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        let w = PollWrite {
            org: org.to_string(),
            device_id: device_id.to_string(),
            enrollment_id: enrollment_id.to_string(),
            device_key: device_key.to_string(),
            principal: principal.to_string(),
            nonce: nonce.to_string(),
            nonce_expires,
            now,
            challenge: challenge.to_string(),
            expires,
            session,
            nonce_only: false,
            reply,
        };
        self.send_poll(w, answer).await
    }

    async fn send_poll(
        &self,
        w: PollWrite,
        answer: oneshot::Receiver<Result<Polled, sqlx::Error>>,
    ) -> Result<Polled, sqlx::Error> {
        let i = self.next_writer.fetch_add(1, Ordering::Relaxed) % self.polls.len();
        self.polls[i].send(w).await.map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    fn invalidate(&self, org: &str, device_id: &str) {
        if let Some(hot) = &self.hot {
            hot.invalidate(org, device_id);
        }
    }

    /// Whether the poll's hot state is kept in this process's memory (`hot`: the relay
    /// process on SQLite).
    pub fn local_polls(&self) -> bool {
        self.hot.is_some()
    }

    /// Records a poll in the hot state (`hot`; the relay process on SQLite): the device is read
    /// from memory (from the database on a miss) and must still have `enrollment_id` and
    /// `device_key`; then the nonce, if given (a device-signed poll: it must stay refused after
    /// a restart), is committed through the group-commit writer; then last seen and the new
    /// challenge are recorded in memory. A session poll passes no nonce: its nonce is checked in
    /// memory with the session (`auth::SessionCache`), which a restart forgets together with
    /// the session. Without hot state this is `polled` (with no session).
    #[allow(clippy::too_many_arguments)]
    pub async fn polled_local(
        &self,
        org: &str,
        device_id: &str,
        (enrollment_id, device_key): (&str, &str),
        nonce: Option<(&str, &str, i64)>,
        now: i64,
        challenge: &str,
        expires: i64,
    ) -> Result<Polled, sqlx::Error> {
        let Some(hot) = &self.hot else {
            let (p, n, e) =
                nonce.ok_or_else(|| sqlx::Error::Protocol("a shared-database poll needs its nonce".into()))?;
            return self
                .polled(org, device_id, (enrollment_id, device_key), (p, n, e), now, challenge, expires, None)
                .await;
        };
        let mut d = match hot.device(org, device_id) {
            Ok(d) => d,
            Err(generation) => {
                let r = sqlx::query(&DEVICE_WAITING_SQL)
                    .bind(org)
                    .bind(device_id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(r) = r else { return Ok(Polled::Stale) };
                let waiting: i64 = r.try_get("waiting")?;
                let d = HotDevice { row: device_row(&r)?, waiting: waiting > 0 };
                hot.fill(org, device_id, generation, d.clone());
                d
            }
        };
        if d.row.enrollment_id != enrollment_id || d.row.device_key.as_deref() != Some(device_key) {
            return Ok(Polled::Stale);
        }
        if let Some((principal, nonce, nonce_expires)) = nonce {
            let (reply, answer) = oneshot::channel();
            let w = PollWrite {
                org: org.to_string(),
                device_id: device_id.to_string(),
                enrollment_id: String::new(),
                device_key: String::new(),
                principal: principal.to_string(),
                nonce: nonce.to_string(),
                nonce_expires,
                now,
                challenge: String::new(),
                expires,
                session: None,
                nonce_only: true,
                reply,
            };
            match self.send_poll(w, answer).await? {
                Polled::Noted => {}
                other => return Ok(other),
            }
        }
        hot.polled(org, device_id, now, challenge, expires);
        d.row.last_seen = Some(now);
        Ok(Polled::Recorded(Box::new(d.row), d.waiting, false))
    }

    /// Writes the last-seen times the hot state holds (every second, and before the fleet is
    /// read). Nothing without hot state.
    pub async fn flush_seen(&self) -> Result<(), sqlx::Error> {
        let Some(hot) = &self.hot else { return Ok(()) };
        let seen = hot.take_seen(crate::now());
        if seen.is_empty() {
            return Ok(());
        }
        let write = async {
            let mut tx = self.writer.begin().await?;
            for (org, device_id, t) in &seen {
                sqlx::query(
                    "UPDATE devices SET last_seen = $3 WHERE org = $1 AND device_id = $2 \
                     AND (last_seen IS NULL OR last_seen < $3)",
                )
                .bind(org)
                .bind(device_id)
                .bind(t)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        };
        if let Err(e) = write.await {
            hot.restore_seen(seen);
            return Err(e);
        }
        Ok(())
    }

    /// Records a verified check-in if it answers the current challenge (which it uses up).
    #[allow(clippy::too_many_arguments)]
    pub async fn check_in(
        &self,
        org: &str,
        device_id: &str,
        challenge: &str,
        now: i64,
        report: &str,
        policy_version: i64,
        root_version: i64,
    ) -> Result<bool, sqlx::Error> {
        if let Some(hot) = &self.hot {
            // The challenge lives in memory (`hot`): used up there, then the report is written.
            if !hot.take_challenge(org, device_id, challenge, now) {
                return Ok(false);
            }
            hot.invalidate(org, device_id);
            let r = sqlx::query(
                "UPDATE devices SET last_seen = $3, last_checkin = $3, report = $4, policy_version = $5, \
                 root_version = $6 WHERE org = $1 AND device_id = $2",
            )
            .bind(org)
            .bind(device_id)
            .bind(now)
            .bind(report)
            .bind(policy_version)
            .bind(root_version)
            .execute(&self.writer)
            .await;
            hot.invalidate(org, device_id);
            return Ok(r?.rows_affected() == 1);
        }
        let r = sqlx::query(
            "UPDATE devices SET challenge = NULL, challenge_expires = NULL, last_seen = $4, last_checkin = $4, \
             report = $5, policy_version = $6, root_version = $7 \
             WHERE org = $1 AND device_id = $2 AND challenge = $3 AND challenge_expires > $4",
        )
        .bind(org)
        .bind(device_id)
        .bind(challenge)
        .bind(now)
        .bind(report)
        .bind(policy_version)
        .bind(root_version)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Queues an object (the same id again changes nothing). Returns whether it was new.
    pub async fn enqueue(&self, org: &str, q: &QueueRow) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "INSERT INTO queue (org, id, target, kind, version, key_id, detail, body, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(org)
        .bind(&q.id)
        .bind(&q.target)
        .bind(&q.kind)
        .bind(q.version)
        .bind(&q.key_id)
        .bind(&q.detail)
        .bind(&q.body)
        .bind(q.created_at)
        .bind(q.expires_at)
        .execute(&self.writer)
        .await;
        if let Some(hot) = &self.hot {
            if q.target == "*" {
                hot.invalidate_org(org);
            } else {
                hot.invalidate(org, &q.target);
            }
        }
        Ok(r?.rows_affected() == 1)
    }

    /// Drops queued policies for `target` and `mode` older than `version` (superseded).
    pub async fn drop_superseded_policies(
        &self,
        org: &str,
        target: &str,
        mode: &str,
        version: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "DELETE FROM queue WHERE org = $1 AND target = $2 AND kind = 'policy' AND detail = $3 AND version < $4",
        )
        .bind(org)
        .bind(target)
        .bind(mode)
        .bind(version)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Live queued objects for a device (its own and fleet-wide), oldest first.
    pub async fn queue_for(&self, org: &str, device_id: &str, now: i64) -> Result<Vec<QueueRow>, sqlx::Error> {
        let q = format!(
            "SELECT {QUEUE_COLS} FROM queue WHERE org = $1 AND (target = $2 OR target = '*') AND expires_at > $3 \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(&q).bind(org).bind(device_id).bind(now).fetch_all(&self.pool).await?;
        rows.iter().map(queue_row).collect()
    }

    /// Every queued command of the org, live or not yet pruned.
    pub async fn commands(&self, org: &str) -> Result<Vec<QueueRow>, sqlx::Error> {
        let q = format!("SELECT {QUEUE_COLS} FROM queue WHERE org = $1 AND kind = 'command' ORDER BY created_at, id");
        let rows = sqlx::query(&q).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(queue_row).collect()
    }

    /// Policies of the org (for silence limits).
    pub async fn policies(&self, org: &str) -> Result<Vec<QueueRow>, sqlx::Error> {
        let q = format!("SELECT {QUEUE_COLS} FROM queue WHERE org = $1 AND kind = 'policy'");
        let rows = sqlx::query(&q).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(queue_row).collect()
    }

    /// Records deliveries (first time only).
    pub async fn delivered(&self, org: &str, ids: &[String], device_id: &str, now: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        for id in ids {
            sqlx::query("INSERT INTO deliveries (org, id, device_id, delivered_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(org)
                .bind(id)
                .bind(device_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// (queue id, device id) pairs delivered in the org.
    pub async fn deliveries(&self, org: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT id, device_id FROM deliveries WHERE org = $1").bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("device_id")?))).collect()
    }

    /// Stores a verified receipt. Returns whether it was new.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_receipt(
        &self,
        org: &str,
        device_id: &str,
        receipt_id: &str,
        command_id: &str,
        requested: &str,
        outcome: &str,
        performed: &str,
        body: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "INSERT INTO receipts (org, device_id, receipt_id, command_id, requested, outcome, performed, body, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(org)
        .bind(device_id)
        .bind(receipt_id)
        .bind(command_id)
        .bind(requested)
        .bind(outcome)
        .bind(performed)
        .bind(body)
        .bind(now)
        .execute(&self.writer)
        .await;
        // A command answered is no longer waiting: read again at the next poll.
        self.invalidate(org, device_id);
        Ok(r?.rows_affected() == 1)
    }

    /// Command ids a device has answered.
    pub async fn answered(&self, org: &str, device_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query("SELECT command_id FROM receipts WHERE org = $1 AND device_id = $2")
            .bind(org)
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| r.try_get("command_id")).collect()
    }

    /// Receipts of the org (optionally one device): (device, command id, requested, outcome,
    /// performed, body, received_at).
    pub async fn receipts(&self, org: &str, device_id: Option<&str>) -> Result<Vec<ReceiptRow>, sqlx::Error> {
        let rows = match device_id {
            Some(d) => {
                sqlx::query("SELECT * FROM receipts WHERE org = $1 AND device_id = $2 ORDER BY received_at, receipt_id")
                    .bind(org)
                    .bind(d)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM receipts WHERE org = $1 ORDER BY received_at, receipt_id")
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(ReceiptRow {
                    device_id: r.try_get("device_id")?,
                    command_id: r.try_get("command_id")?,
                    requested: r.try_get("requested")?,
                    outcome: r.try_get("outcome")?,
                    performed: r.try_get("performed")?,
                    body: r.try_get("body")?,
                    received_at: r.try_get("received_at")?,
                })
            })
            .collect()
    }

    /// Replaces the staff list the org's policy names for `target` and `mode`, if `version` is
    /// at least the stored one.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_staff(
        &self,
        org: &str,
        target: &str,
        mode: &str,
        version: i64,
        staff: &[(String, String, String)],
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let cur: Option<i64> =
            sqlx::query("SELECT MAX(version) AS v FROM staff WHERE org = $1 AND target = $2 AND mode = $3")
                .bind(org)
                .bind(target)
                .bind(mode)
                .fetch_one(&mut *tx)
                .await?
                .try_get("v")?;
        if cur.is_some_and(|c| c > version) {
            return tx.commit().await;
        }
        sqlx::query("DELETE FROM staff WHERE org = $1 AND target = $2 AND mode = $3")
            .bind(org)
            .bind(target)
            .bind(mode)
            .execute(&mut *tx)
            .await?;
        for (key_id, pubkey, roles) in staff {
            sqlx::query(
                "INSERT INTO staff (org, target, mode, version, key_id, pubkey, roles, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(org)
            .bind(target)
            .bind(mode)
            .bind(version)
            .bind(key_id)
            .bind(pubkey)
            .bind(roles)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Staff entries (target, mode, version, key id, public key, roles JSON) of the org,
    /// unexpired at `now`.
    pub async fn staff(&self, org: &str, now: i64) -> Result<Vec<StaffRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT target, mode, version, key_id, pubkey, roles FROM staff WHERE org = $1 AND expires_at > $2",
        )
        .bind(org)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffRow {
                    target: r.try_get("target")?,
                    mode: r.try_get("mode")?,
                    version: r.try_get("version")?,
                    key_id: r.try_get("key_id")?,
                    pubkey: r.try_get("pubkey")?,
                    roles: r.try_get("roles")?,
                })
            })
            .collect()
    }

    /// Stores or replaces a push token.
    pub async fn set_push_token(
        &self,
        org: &str,
        device_id: &str,
        platform: &str,
        token: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO push_tokens (org, device_id, platform, token, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org, device_id) DO UPDATE SET platform = $3, token = $4, updated_at = $5",
        )
        .bind(org)
        .bind(device_id)
        .bind(platform)
        .bind(token)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets a push token.
    pub async fn drop_push_token(&self, org: &str, device_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM push_tokens WHERE org = $1 AND device_id = $2")
            .bind(org)
            .bind(device_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Whether a device has a push token (the fleet view shows only that, never the token).
    pub async fn push_tokens(&self, org: &str) -> Result<Vec<String>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT device_id FROM push_tokens WHERE org = $1").bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(|r| r.try_get("device_id")).collect()
    }

    /// Stores a poll session issued to a device (PostgreSQL's relays issue them in the poll's
    /// own transaction, `polled`; this is for tools and tests). Returns whether it was new.
    pub async fn insert_session(&self, s: &SessionRow) -> Result<bool, sqlx::Error> {
        Ok(bind_session(sqlx::query(INSERT_SESSION_SQL), s).execute(&self.writer).await?.rows_affected() == 1)
    }

    /// A poll session by id (any org; the caller checks the org).
    pub async fn session(&self, sid: &str) -> Result<Option<SessionRow>, sqlx::Error> {
        let r = sqlx::query(
            "SELECT sid, org, device_id, enrollment_id, device_key, session_key, expires_at FROM sessions WHERE sid = $1",
        )
        .bind(sid)
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| {
            Ok(SessionRow {
                sid: r.try_get("sid")?,
                org: r.try_get("org")?,
                device_id: r.try_get("device_id")?,
                enrollment_id: r.try_get("enrollment_id")?,
                device_key: r.try_get("device_key")?,
                session_key: r.try_get("session_key")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Removes a poll session (refused: its device was re-enrolled or re-keyed).
    pub async fn delete_session(&self, sid: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE sid = $1").bind(sid).execute(&self.writer).await?;
        Ok(())
    }

    /// Applies the retention limits at `now`. Returns the number of rows removed.
    pub async fn prune(&self, now: i64, retention_secs: i64) -> Result<u64, sqlx::Error> {
        let old = now - retention_secs;
        let stmts: [(&str, i64); 8] = [
            ("DELETE FROM nonces WHERE expires_at <= $1", now),
            ("DELETE FROM sessions WHERE expires_at <= $1", now),
            ("DELETE FROM queue WHERE expires_at <= $1", now),
            ("DELETE FROM staff WHERE expires_at <= $1", now),
            ("DELETE FROM receipts WHERE received_at <= $1", old),
            ("DELETE FROM push_tokens WHERE updated_at <= $1", old),
            (
                "DELETE FROM devices WHERE COALESCE(last_seen, enrolled_at, announced_at) <= $1",
                old,
            ),
            (
                "DELETE FROM deliveries WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.org = deliveries.org AND q.id = deliveries.id) \
                 AND delivered_at <= $1",
                now,
            ),
        ];
        // Last-seen times first, so that no device seen in the last second counts as silent.
        self.flush_seen().await?;
        let mut n = 0;
        for (s, t) in stmts {
            let removed = sqlx::query(s).bind(t).execute(&self.writer).await.map(|r| r.rows_affected());
            if s.starts_with("DELETE FROM devices") && !matches!(removed, Ok(0)) {
                if let Some(hot) = &self.hot {
                    hot.invalidate_all();
                }
            }
            n += removed?;
        }
        Ok(n)
    }
}

/// A stored receipt.
#[derive(Debug, Clone)]
pub struct ReceiptRow {
    /// Hex.
    pub device_id: String,
    /// Hex.
    pub command_id: String,
    /// Action name.
    pub requested: String,
    /// Outcome name.
    pub outcome: String,
    /// Performed scope name.
    pub performed: String,
    /// `QL:` text.
    pub body: String,
    /// Unix seconds.
    pub received_at: i64,
}

/// A staff key as the relay knows it from a verified policy.
#[derive(Debug, Clone)]
pub struct StaffRow {
    /// Device id or `*`.
    pub target: String,
    /// Policy mode.
    pub mode: String,
    /// Policy version.
    pub version: i64,
    /// Hex key id.
    pub key_id: String,
    /// Hex public key.
    pub pubkey: String,
    /// JSON list of roles.
    pub roles: String,
}
