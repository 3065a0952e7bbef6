"""The FFI surface from Python, through the generated bindings and the real library: open a
store, load the demo, run a patrol, report a hazard, drive it to closed, read the report,
catch typed errors for bad input, and sync two stores through a real sync-server process
(its URL in GRIDPATROL_SERVER_URL); then the registers (letters, fires, training) from five
phones through that server, and a micro station with its equipment checks and a drill from a
village leader's, and the figures they move. Run by tests/bindings.sh with the
generated module on PYTHONPATH; exits non-zero on the first failed check."""

import datetime
import os
import signal
import subprocess
import sys
import tempfile
import time

import gridpatrol_ffi as gp


def day_after(day: str, n: int) -> str:
    return (datetime.date.fromisoformat(day) + datetime.timedelta(days=n)).isoformat()


def expect_error(kind, call):
    try:
        call()
    except kind as e:
        return e
    raise AssertionError(f"expected {kind.__name__}")


class Progress(gp.SyncListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress)


PHOTO = "ab" * 32


def local_loop(folder):
    store = gp.PatrolStore.open(os.path.join(folder, "local.db"), gp.DeviceConfig(fixed_clock_ms=None))
    store.load_demo()
    today = store.today()

    # A place found on patrol, registered from the phone, then its owner corrected.
    found = store.add_place("w01", gp.NewPlaceInput(
        grid_id="g01", place_type="出租房", name="新发现出租屋", address="东沟村 9 号",
        risk_level="高", responsible_name="赵某", responsible_phone="13700000000",
        latitude=37.8, longitude=112.5))
    store.edit_place("w01", gp.PlaceEdit(
        place_id=found, name=None, address=None, risk_level=None,
        responsible_name="钱某", responsible_phone="13600000000"))
    assert [d.pending for d in store.due_patrols("w01") if d.place_id == found] == [True]
    try:
        store.add_place("w01", gp.NewPlaceInput(
            grid_id="g01", place_type="小作坊", name="x", address="", risk_level="中",
            responsible_name="", responsible_phone=None, latitude=None, longitude=None))
        raise AssertionError("an unknown place type is refused")
    except gp.GridPatrolError.InvalidInput as e:
        assert e.field == "place_type", e

    types = store.place_types()
    assert any(t.zh == "出租房" and t.group == "出租房" for t in types), types
    due = store.due_patrols("w01")
    assert due, "the demo worker has patrols due"
    assert any(d.place_id == found for d in due), "the new place is due for its first visit"
    place = due[0]
    form = store.patrol_form("w01", place.place_id)
    assert form.items, "a checklist to run"
    assert all(i.failure_wording for i in form.items), "each item says how its failure reads"
    assert any(i.failure_wording != i.label for i in form.items)
    first_fail = next(i for i in form.items if i.item_type == gp.ItemType.PASS_FAIL)
    answers = [gp.ItemAnswer(key=first_fail.key, answer=gp.Answer.FAIL())]
    result = store.record_patrol(
        "w01",
        gp.PatrolDraft(
            place_id=place.place_id,
            started_at_ms=0,
            latitude=None,
            longitude=None,
            accuracy_m=None,
            answers=answers,
            raise_items=[first_fail.key],
            note="",
            item_photos=[gp.ItemPhoto(key=first_fail.key, sha256="ab" * 32)],
        ),
    )
    assert len(result.hazard_ids) == 1, result
    hazard = result.hazard_ids[0]
    again = {i.key: i for i in store.patrol_form("w01", place.place_id).items}
    assert again[first_fail.key].failed_last_time
    assert again[first_fail.key].last_answer == gp.Answer.FAIL(), again[first_fail.key].last_answer

    detail = store.hazard("w01", hazard)
    assert detail.summary.status == "reported"
    assert "notify" in detail.allowed, detail.allowed
    assert [gp.verb_zh(v) for v in ["notify", "fix_on_spot"]] == ["下发整改通知", "当场整改"]
    detail = store.transition(
        "w01", hazard, gp.Transition.NOTIFY(responsible_party="店主", deadline=day_after(today, 3), note="")
    )
    assert detail.summary.status == "notified"
    store.transition("w01", hazard, gp.Transition.START_RECTIFICATION(note=""))
    detail = store.transition("w01", hazard, gp.Transition.SUBMIT_RECTIFICATION(note="已整改", photos=[PHOTO]))
    assert "review" not in detail.allowed, "a worker does not verify their own grid's rectification"
    err = expect_error(
        gp.GridPatrolError.NotAllowed,
        lambda: store.transition("w01", hazard, gp.Transition.REVIEW(passed=True, note="", new_deadline=None)),
    )
    assert err.code == "role_not_allowed", err.code
    assert "review" in store.hazard("l01", hazard).allowed
    detail = store.transition("l01", hazard, gp.Transition.REVIEW(passed=True, note="复查合格", new_deadline=None))
    assert detail.summary.status == "closed", detail.summary.status
    assert detail.allowed == []
    assert [e.verb for e in detail.timeline] == ["report", "notify", "start_rectification", "submit_rectification", "review"]

    # Before and after photos, captured with where they were taken, are paired for the verifier.
    for name, kind, lat in (("before.jpg", gp.PhotoKind.BEFORE, 37.8), ("after.jpg", gp.PhotoKind.AFTER, 37.80005)):
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(os.urandom(1000))
        store.capture_photo("w01", gp.PhotoCaptureInput(
            path=path, place_id=place.place_id, hazard_id=hazard, kind=kind, taken_at_ms=0,
            latitude=lat, longitude=112.5, accuracy_m=5.0, mock_location=False))
    pairs = store.hazard("l01", hazard).photo_pairs
    assert len(pairs) == 1 and 4 < pairs[0].distance_m < 7, pairs

    other = store.report_hazard(
        "w01",
        gp.NewHazard(place_id=place.place_id, category="wiring", severity=gp.Severity.GENERAL,
                     description="私拉电线", photos=[PHOTO]),
    )
    assert store.hazard("w01", other).photos == [PHOTO]

    report = store.report("w01", detail.summary.grid_id, day_after(today, -30), today)
    assert report.closed >= 1 and report.hazards_reported >= 2, report
    assert report.in_grid_closure_rate is not None

    # Reads are the acting user's: another grid's worker, or a worker asking for the township's
    # figures, is refused, as the core refuses them.
    for read in (lambda: store.patrol_form("w04", place.place_id),
                 lambda: store.hazard("w04", other),
                 lambda: store.report("w01", "t01", day_after(today, -30), today),
                 lambda: store.fetch_photo("w04", PHOTO, gp.PhotoVariant.THUMB)):
        err = expect_error(gp.GridPatrolError.NotAllowed, read)
        assert err.code == "out_of_scope", err.code

    # Typed errors for bad input, and nothing stored by them.
    before = len(store.hazards("w01"))
    err = expect_error(
        gp.GridPatrolError.InvalidInput,
        lambda: store.report_hazard("w01", gp.NewHazard(place_id=place.place_id, category="wiring",
                                                        severity=gp.Severity.GENERAL, description="  ", photos=[])),
    )
    assert err.field == "description", err.field
    assert err.zh and err.en
    err = expect_error(gp.GridPatrolError.InvalidInput, lambda: store.hazard("w01", "not-an-id"))
    assert err.field == "id"
    err = expect_error(
        gp.GridPatrolError.InvalidInput,
        lambda: store.transition("w01", other, gp.Transition.NOTIFY(responsible_party="店主", deadline="明天", note="")),
    )
    assert err.field == "deadline"
    expect_error(gp.GridPatrolError.NotFound, lambda: store.due_patrols("nobody"))
    assert len(store.hazards("w01")) == before

    store.shutdown()
    expect_error(gp.GridPatrolError.Storage, lambda: store.hazards("w01"))


def two_devices(folder, url):
    worker = gp.PatrolStore.open(os.path.join(folder, "worker.db"), gp.DeviceConfig(fixed_clock_ms=None))
    leader = gp.PatrolStore.open(os.path.join(folder, "leader.db"), gp.DeviceConfig(fixed_clock_ms=None))
    expect_error(gp.GridPatrolError.AuthExpired, lambda: worker.sync_now(Progress()))
    err = expect_error(gp.GridPatrolError.AuthExpired, lambda: worker.sign_in(url, "w01", "wrong password"))
    assert "密码" in err.zh, err.zh
    worker.sign_in(url, "w01", "gridpatrol")
    leader.sign_in(url, "l01", "gridpatrol")
    progress = Progress()
    worker.sync_now(progress)
    assert progress.seen, "progress is reported"
    leader.sync_now(Progress())

    place = worker.due_patrols("w01")[0].place_id
    photo_file = os.path.join(folder, "IMG_0001.jpg")
    with open(photo_file, "wb") as f:
        f.write(os.urandom(300_000))
    photo = worker.add_photo_file(photo_file)
    hazard = worker.report_hazard(
        "w01", gp.NewHazard(place_id=place, category="extinguisher", severity=gp.Severity.GENERAL,
                            description="灭火器过期", photos=[photo])
    )
    status = worker.sync_status("w01")
    assert status.pending_ops == 1 and status.user_id == "w01" and status.photos_pending == 1, status
    assert worker.hazard("w01", hazard).summary.case_label.startswith("待编号"), "numbered by the server"
    assert [p.sha256 for p in worker.pending_photos()] == [photo]
    report = worker.sync_now(Progress())
    assert report.pushed == 1 and report.refused == 0 and report.photos_sent == 1, report
    status = worker.sync_status("w01")
    assert status.pending_ops == 0 and status.photos_pending == 0, status
    number = worker.hazard("w01", hazard).summary.case_label
    assert number.startswith("T01-"), number

    leader.sync_now(Progress())
    assert hazard in [h.id for h in leader.hazards("l01")], "the leader's phone has the worker's report"
    assert leader.hazard("l01", hazard).summary.case_label == number, "one number on every device"
    fetched = leader.fetch_photo("l01", photo, gp.PhotoVariant.ORIGINAL)
    with open(fetched, "rb") as a, open(photo_file, "rb") as b:
        assert a.read() == b.read(), "the original arrives exact"
    assert leader.refused_ops() == [] and leader.conflicts("l01") == []
    # Signing out with unsent work is refused unless forced.
    worker.report_hazard(
        "w01", gp.NewHazard(place_id=place, category="wiring", severity=gp.Severity.GENERAL,
                            description="插座过载", photos=[])
    )
    err = expect_error(gp.GridPatrolError.NotAllowed, lambda: worker.sign_out(False))
    assert err.code == "pending_ops", err.code
    assert worker.sign_out(True) is True
    expect_error(gp.GridPatrolError.AuthExpired, lambda: worker.sync_now(Progress()))


def hazard_draft_start(db, url):
    """A hazard being written, saved as typed; then this process is killed (SIGKILL)."""
    phone = gp.PatrolStore.open(db, gp.DeviceConfig(fixed_clock_ms=None))
    phone.sign_in(url, "w01", "gridpatrol")
    phone.sync_now(Progress())
    place = phone.due_patrols("w01")[0].place_id
    photo_file = os.path.join(os.path.dirname(db), "IMG_0002.jpg")
    with open(photo_file, "wb") as f:
        f.write(os.urandom(100_000))
    photo = phone.add_photo_file(photo_file)
    # The report begins before any fix; the fix, when it comes, is kept with it.
    draft = phone.start_hazard_draft("w01", place, "", gp.Severity.GENERAL, None)
    fix = gp.GpsFix(latitude=37.8, longitude=112.5, accuracy_m=None, mock=True)
    phone.save_hazard_draft("w01", draft, "wiring", gp.Severity.GENERAL, "楼道飞线充电", [photo], fix)
    print(f"draft saved: {draft} {photo}", flush=True)
    time.sleep(3600)


def hazard_draft_after_kill(folder, url):
    """The same hazard draft survives SIGKILL of the process that wrote it, and is reported once."""
    db = os.path.join(folder, "draft.db")
    child = subprocess.Popen([sys.executable, __file__, "hazard-draft-start", db],
                             stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    assert line.startswith("draft saved: "), line
    child.send_signal(signal.SIGKILL)
    child.wait()
    draft, photo = line.split()[2:4]
    phone = gp.PatrolStore.open(db, gp.DeviceConfig(fixed_clock_ms=None))
    [row] = phone.drafts("w01")
    assert row.draft_id == draft and row.kind == gp.DraftKind.HAZARD, row
    kept = phone.hazard_draft("w01", draft)
    assert kept.description == "楼道飞线充电" and kept.photos == [photo], kept
    assert kept.fix is not None and kept.fix.mock, "the fix and its mock flag are kept"
    done = phone.submit_draft("w01", draft)
    assert isinstance(done, gp.DraftOutcome.HAZARD), done
    expect_error(gp.GridPatrolError.NotFound, lambda: phone.submit_draft("w01", draft))
    assert phone.drafts("w01") == []
    report = phone.sync_now(Progress())
    assert report.pushed == 1 and report.refused == 0 and report.photos_sent == 1, report
    # Publicity logged from the phone: where it went (五进), its photo, reported once.
    activity = phone.start_activity_draft("w01", gp.ActivityType.PUBLICITY, "g01", phone.today())
    phone.save_activity_draft("w01", activity, "消防安全进农村", 40, "", gp.PublicityChannel.VILLAGES, [], [photo])
    kept = phone.activity_draft("w01", activity)
    assert kept.channel == gp.PublicityChannel.VILLAGES and kept.photos == [photo], kept
    assert isinstance(phone.submit_draft("w01", activity), gp.DraftOutcome.ACTIVITY)
    assert phone.sync_now(Progress()).refused == 0
    # The worker's reminders, computed on the phone: places due today, and what to schedule.
    counts = phone.reminders("w01")
    assert counts.patrols_due + counts.patrols_overdue >= 1 and counts.summary, counts
    notices = phone.notices("w01", None)
    china = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)
    minute = china.hour * 60 + china.minute
    daytime = 8 * 60 + 30 <= minute < 20 * 60 - 1
    summary = [n for n in notices if n.key == f"summary:{counts.today}"]
    if daytime:
        assert summary and summary[0].body == counts.summary, notices
    elif minute >= 20 * 60:
        assert not summary, "nothing after 20:00"
    assert all(n.key != f"summary:{counts.today}" for n in phone.notices("w01", counts.today))


def registers(folder, url):
    """The registers from five phones through the real server: a grid worker's letter with its
    photo, a village leader's fire and pact (a worker's fire refused), the brigade's training
    with trainees and their assessment; after a sync the officer's township figures rise by
    exactly what was entered, and a worker of another village receives none of it."""
    phones = {}
    for who in ("o01", "w01", "l01", "b01", "w04"):
        phone = gp.PatrolStore.open(os.path.join(folder, f"registers-{who}.db"),
                                    gp.DeviceConfig(fixed_clock_ms=None))
        phone.sign_in(url, who, "gridpatrol")
        phone.sync_now(Progress())
        phones[who] = phone
    officer, worker, leader, brigade, elsewhere = (phones[w] for w in ("o01", "w01", "l01", "b01", "w04"))
    today = officer.today()
    period = (day_after(today, -30), today)
    year = (day_after(today, -364), today)
    before = officer.report("o01", "t01", *period)

    # 责任书: a place of the worker's with none in force, signed today with a photo of the paper.
    place = next(d for d in worker.due_patrols("w01")
                 if not worker.place_letter("w01", d.place_id).in_force)
    assert worker.place_letter("w01", place.place_id).state_zh in ("未签订", "已过期")
    paper = os.path.join(folder, "IMG_letter.jpg")
    with open(paper, "wb") as f:
        f.write(os.urandom(50_000))
    now_ms = int(time.time() * 1000)
    photo = worker.capture_photo("w01", gp.PhotoCaptureInput(
        path=paper, place_id=place.place_id, hazard_id=None, kind=gp.PhotoKind.DOCUMENT,
        taken_at_ms=now_ms, latitude=37.8, longitude=112.5, accuracy_m=8.0, mock_location=False))
    kinds = {k.kind: k for k in worker.letter_kinds()}
    assert kinds[gp.LetterKind.RESPONSIBILITY].zh == "消防安全责任书" and not kinds[gp.LetterKind.VILLAGE_PACT].of_place
    letter = worker.record_letter("w01", gp.LetterInput(
        kind=gp.LetterKind.RESPONSIBILITY, place_id=place.place_id, village_id=None,
        signed_on=today, signed_by="店主", note="", photos=[photo]))
    state = worker.place_letter("w01", place.place_id)
    assert state.in_force and state.signed_on == today and state.state_zh == "已签订", state
    assert state.lapses_on == day_after(today, 365), state
    err = expect_error(gp.GridPatrolError.InvalidInput, lambda: worker.record_letter("w01", gp.LetterInput(
        kind=gp.LetterKind.RESPONSIBILITY, place_id=place.place_id, village_id=None,
        signed_on=day_after(today, 1), signed_by="店主", note="", photos=[])))
    assert err.field == "date", err.field
    sent = worker.sync_now(Progress())
    assert sent.pushed == 2 and sent.refused == 0 and sent.photos_sent == 1, sent

    # 火灾: the worker may not record one (typed refusal, nothing kept); the village leader may.
    at = next(d for d in leader.due_patrols("l01") if d.grid_id in ("g01", "g02"))
    fire = gp.FireInput(
        grid_id=at.grid_id, place_id=at.place_id, address="", occurred_at_ms=now_ms - 2 * 3_600_000,
        cause=gp.FireCause.ELECTRICAL, deaths=1, injuries=2, loss_yuan=35_000, brigade_attended=True,
        note="电动自行车室内充电", photos=[])
    assert not worker.may_record_fire("w01") and leader.may_record_fire("l01") and brigade.may_record_fire("b01")
    assert {p.place_id for p in leader.places("l01")} >= {at.place_id}
    err = expect_error(gp.GridPatrolError.NotAllowed, lambda: worker.record_fire("w01", fire))
    assert err.code == "role_not_allowed" and err.zh and err.en, err
    assert worker.sync_status("w01").pending_ops == 0, "a refused fire leaves nothing to send"
    causes = leader.fire_causes()
    assert [c.cause for c in causes][0] == gp.FireCause.ELECTRICAL and causes[0].zh == "电气", causes
    fire_id = leader.record_fire("l01", fire)
    # 防火公约: v01 has none in force yet, and adopts it (a grid worker may not).
    pacts = [e for e in leader.letters("l01", "v01", *year) if e.kind == gp.LetterKind.VILLAGE_PACT]
    assert pacts == [], pacts
    err = expect_error(gp.GridPatrolError.NotAllowed, lambda: worker.record_letter("w01", gp.LetterInput(
        kind=gp.LetterKind.VILLAGE_PACT, place_id=None, village_id="v01", signed_on=today,
        signed_by="村民代表大会", note="", photos=[])))
    assert err.code == "role_not_allowed", err.code
    leader.record_letter("l01", gp.LetterInput(
        kind=gp.LetterKind.VILLAGE_PACT, place_id=None, village_id="v01", signed_on=today,
        signed_by="村民代表大会", note="", photos=[]))
    assert leader.sync_now(Progress()).refused == 0
    listed = {e.letter_id: e for e in leader.letters("l01", "v01", *year)}
    assert letter in listed and listed[letter].photos == [photo], "the leader's phone has the worker's letter"
    assert leader.place_letter("l01", place.place_id).in_force

    # 消防培训 by the brigade: three grid workers by account, two of them assessed, one passed.
    trainees = [gp.Trainee(user_id="w01", passed=True), gp.Trainee(user_id="w04", passed=False),
                gp.Trainee(user_id="w05", passed=None)]
    # The workers the training may name: every worker of the township, by name; a worker may
    # not list another village's.
    workers = brigade.grid_workers_in("b01", "t01")
    assert sorted(p.user_id for p in workers) == ["w01", "w03", "w04", "w05", "w06", "w07", "w08", "w09"], workers
    assert [p.name for p in workers] == sorted(p.name for p in workers), workers
    err = expect_error(gp.GridPatrolError.NotAllowed, lambda: worker.grid_workers_in("w01", "v02"))
    assert err.code == "out_of_scope", err.code
    draft = brigade.start_activity_draft("b01", gp.ActivityType.TRAINING, "t01", today)
    brigade.save_activity_draft("b01", draft, "网格员消防业务培训", 12, "", None, ["村民甲"], [], trainees)
    kept = brigade.activity_draft("b01", draft)
    assert kept.trainees == trainees and kept.attendees == ["村民甲"], kept
    assert isinstance(brigade.submit_draft("b01", draft), gp.DraftOutcome.ACTIVITY)
    assert brigade.sync_now(Progress()).refused == 0

    officer.sync_now(Progress())
    after = officer.report("o01", "t01", *period)
    rose = {f: getattr(after, f) - getattr(before, f) for f in (
        "fires", "deaths", "injuries", "loss_yuan", "places", "places_signed", "villages",
        "villages_with_pact", "grid_workers", "grid_workers_trained", "assessed", "passed")}
    assert rose == {"fires": 1, "deaths": 1, "injuries": 2, "loss_yuan": 35_000, "places": 0,
                    "places_signed": 1, "villages": 0, "villages_with_pact": 1, "grid_workers": 0,
                    "grid_workers_trained": 3, "assessed": 2, "passed": 1}, (rose, before, after)
    assert after.signed_rate == after.places_signed / after.places, after
    assert after.pass_rate == after.passed / after.assessed, after
    [entry] = [f for f in officer.fires("o01", "t01", *period) if f.fire_id == fire_id]
    assert entry.cause == gp.FireCause.ELECTRICAL and entry.cause_zh == "电气", entry
    assert entry.address == at.address and entry.place_name == at.name, entry
    assert entry.history is not None and entry.history.patrols_in_year >= 0, entry
    assert officer.place_letter("o01", place.place_id).in_force

    # Another village's worker: its phone holds none of v01's, and may not ask for it.
    elsewhere.sync_now(Progress())
    assert all(e.letter_id != letter for e in elsewhere.letters("w04", "g04", *year))
    assert elsewhere.fires("w04", "g04", *period) == []
    expect_error(gp.GridPatrolError.NotFound, lambda: elsewhere.place_letter("w04", place.place_id))
    for read in (lambda: elsewhere.letters("w04", "v01", *year),
                 lambda: elsewhere.fires("w04", "t01", *period),
                 lambda: worker.place_letter("w04", place.place_id)):
        err = expect_error(gp.GridPatrolError.NotAllowed, read)
        assert err.code == "out_of_scope", err.code
    for phone in phones.values():
        phone.shutdown()


def stations(folder, url):
    """A village leader's phone keeps a micro station (微型消防站) with two items, checks one and
    logs a drill naming it; a grid worker may not keep one; after a sync the officer's township
    figures rise by exactly that, and a worker of another village holds none of it."""
    phones = {}
    for who in ("o01", "l01", "w01", "w04"):
        phone = gp.PatrolStore.open(os.path.join(folder, f"stations-{who}.db"),
                                    gp.DeviceConfig(fixed_clock_ms=None))
        phone.sign_in(url, who, "gridpatrol")
        phone.sync_now(Progress())
        phones[who] = phone
    officer, leader, worker, elsewhere = (phones[w] for w in ("o01", "l01", "w01", "w04"))
    today = officer.today()
    period = (day_after(today, -30), today)
    before = officer.report("o01", "t01", *period)

    kinds = {k.kind: k for k in leader.group_kinds()}
    assert kinds[gp.GroupKind.MICRO_STATION].zh == "微型消防站" and kinds[gp.GroupKind.MICRO_STATION].keeps_equipment
    assert not kinds[gp.GroupKind.SAFETY_COMMITTEE].keeps_equipment
    [village] = leader.user_orgs("l01")
    assert village.org_id == "v01" and village.level_zh == "村（社区）", village
    station = gp.GroupInput(
        group_id=None, kind=gp.GroupKind.MICRO_STATION, org_id=village.org_id, name="东沟村微型消防站",
        members=[gp.GroupMember(name="站长甲", user_id=None, duty="站长"),
                 gp.GroupMember(name="队员乙", user_id=None, duty="队员")],
        roster="每日 2 人值班",
        equipment=[gp.EquipmentInput(key=None, kind="灭火器", count=6, check_every_days=30, expires_on=None),
                   gp.EquipmentInput(key=None, kind="消防水带", count=2, check_every_days=90,
                                     expires_on=day_after(today, -1))],
        active=True)

    # A grid worker keeps no station: refused by role for their own grid, by scope for the village.
    assert leader.may_keep_groups("l01") and officer.may_keep_groups("o01") and not worker.may_keep_groups("w01")
    team = gp.GroupInput(group_id=None, kind=gp.GroupKind.VOLUNTEER_TEAM, org_id="g01", name="一网格志愿消防队",
                         members=[], roster="", equipment=[], active=True)
    err = expect_error(gp.GridPatrolError.NotAllowed, lambda: worker.put_group("w01", team))
    assert err.code == "role_not_allowed" and err.zh, err
    err = expect_error(gp.GridPatrolError.NotAllowed, lambda: worker.put_group("w01", station))
    assert err.code == "out_of_scope", err.code
    assert worker.sync_status("w01").pending_ops == 0, "a refused group leaves nothing to send"

    group = leader.put_group("l01", station)
    [entry] = [g for g in leader.groups("l01", "v01") if g.group_id == group]
    assert entry.kind_zh == "微型消防站" and entry.org_name == village.name and entry.active, entry
    assert [m.name for m in entry.members] == ["站长甲", "队员乙"] and entry.roster == "每日 2 人值班", entry
    extinguisher, hose = entry.equipment
    assert (extinguisher.kind, hose.kind, hose.expires_on) == ("灭火器", "消防水带", day_after(today, -1)), entry
    due = [d for d in leader.equipment_due("l01") if d.group_id == group]
    assert {d.item.key for d in due} == {extinguisher.key, hose.key}, due
    assert all(d.last_checked is None and d.last_result_zh == "未检查" for d in due), due
    assert [d.expired for d in due if d.item.key == hose.key] == [True]
    assert leader.reminders("l01").equipment_due >= 2
    assert "消防站器材待检查" in leader.reminders("l01").summary

    # 器材检查: the extinguishers, with a photo; the hose stays due.
    shot = os.path.join(folder, "IMG_station.jpg")
    with open(shot, "wb") as f:
        f.write(os.urandom(40_000))
    photo = leader.add_photo_file(shot)
    checked = leader.check_equipment("l01", group, today, [gp.ItemCheckInput(key=extinguisher.key, ok=True, note="")],
                                     [photo])
    assert checked
    due = [d for d in leader.equipment_due("l01") if d.group_id == group]
    assert [d.item.key for d in due] == [hose.key], due
    err = expect_error(gp.GridPatrolError.InvalidInput, lambda: leader.check_equipment(
        "l01", group, day_after(today, 1), [gp.ItemCheckInput(key=hose.key, ok=True, note="")], []))
    assert err.field == "date", err.field

    # 消防演练 held by the station, logged for its village.
    draft = leader.start_activity_draft("l01", gp.ActivityType.DRILL, "v01", today, group)
    leader.save_activity_draft("l01", draft, "灭火器实操演练", 15, "", None, ["站长甲", "队员乙"], [])
    kept = leader.activity_draft("l01", draft)
    assert kept.group_id == group and kept.activity == gp.ActivityType.DRILL, kept
    assert isinstance(leader.submit_draft("l01", draft), gp.DraftOutcome.ACTIVITY)
    sent = leader.sync_now(Progress())
    assert sent.pushed == 3 and sent.refused == 0 and sent.photos_sent == 1, sent

    officer.sync_now(Progress())
    after = officer.report("o01", "t01", *period)
    fields = ("micro_stations", "volunteer_teams", "committees", "members", "equipment_items", "equipment_due",
              "equipment_expired", "drills", "drill_attendance", "meetings")
    rose = {f: getattr(after, f) - getattr(before, f) for f in fields}
    assert rose == {"micro_stations": 1, "volunteer_teams": 0, "committees": 0, "members": 2, "equipment_items": 2,
                    "equipment_due": 1, "equipment_expired": 1, "drills": 1, "drill_attendance": 15,
                    "meetings": 0}, (rose, before, after)
    assert group in [g.group_id for g in officer.groups("o01", "t01")]
    assert [d.item.key for d in officer.equipment_due("o01") if d.group_id == group] == [hose.key]

    # Another village's worker: none of v01's station, and v01's groups are not theirs to ask for.
    elsewhere.sync_now(Progress())
    assert all(g.group_id != group for g in elsewhere.groups("w04", "g04"))
    assert all(d.group_id != group for d in elsewhere.equipment_due("w04"))
    err = expect_error(gp.GridPatrolError.NotAllowed, lambda: elsewhere.groups("w04", "v01"))
    assert err.code == "out_of_scope", err.code
    for phone in phones.values():
        phone.shutdown()


def main():
    if sys.argv[1:2] == ["hazard-draft-start"]:
        url = os.environ["GRIDPATROL_SERVER_URL"]
        hazard_draft_start(sys.argv[2], url)
        return
    url = os.environ.get("GRIDPATROL_SERVER_URL")
    if not url:
        sys.exit("GRIDPATROL_SERVER_URL is not set")
    with tempfile.TemporaryDirectory() as folder:
        local_loop(folder)
        two_devices(folder, url)
        hazard_draft_after_kill(folder, url)
        registers(folder, url)
        stations(folder, url)
    print("python scenario: ok")


if __name__ == "__main__":
    main()
