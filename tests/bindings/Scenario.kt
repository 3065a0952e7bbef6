// The FFI surface from Kotlin on the JVM, through patrolkit over the generated bindings and the
// real library: open a store, load the demo, run a patrol, report a hazard, drive it to closed,
// read the report, get typed errors for bad input, and sync two stores through a real
// sync-server process (its URL in GRIDPATROL_SERVER_URL); then a letter, a fire and a training
// from the phones move the township's figures, and a village's station is kept and checked.
// Run by tests/bindings.sh.

import cn.gridpatrol.ffi.Answer
import cn.gridpatrol.ffi.DraftOutcome
import cn.gridpatrol.ffi.ActivityType
import cn.gridpatrol.ffi.DraftKind
import cn.gridpatrol.ffi.EquipmentInput
import cn.gridpatrol.ffi.FireCause
import cn.gridpatrol.ffi.FireInput
import cn.gridpatrol.ffi.GpsFix
import cn.gridpatrol.ffi.GroupInput
import cn.gridpatrol.ffi.GroupKind
import cn.gridpatrol.ffi.GroupMember
import cn.gridpatrol.ffi.ItemAnswer
import cn.gridpatrol.ffi.ItemCheckInput
import cn.gridpatrol.ffi.ItemPhoto
import cn.gridpatrol.ffi.ItemType
import cn.gridpatrol.ffi.LetterInput
import cn.gridpatrol.ffi.LetterKind
import cn.gridpatrol.ffi.NewHazard
import cn.gridpatrol.ffi.NewPlaceInput
import cn.gridpatrol.ffi.PatrolDraft
import cn.gridpatrol.ffi.PlaceEdit
import cn.gridpatrol.ffi.Severity
import cn.gridpatrol.ffi.SyncProgress
import cn.gridpatrol.ffi.Trainee
import cn.gridpatrol.ffi.Transition
import cn.gridpatrol.ffi.answerZh
import cn.gridpatrol.ffi.progressZh
import cn.gridpatrol.ffi.verbZh
import cn.gridpatrol.patrolkit.Outcome
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue

const val PHOTO = "abababababababababababababababababababababababababababababababab"

fun day(today: String, plus: Long) = LocalDate.parse(today).plusDays(plus).toString()

inline fun <reified E : PatrolError> failed(o: Outcome<*>): E {
    assertIs<Outcome.Failed>(o, "expected a failure, got $o")
    return assertIs<E>(o.error)
}

suspend fun localLoop(dir: File) {
    val kit = PatrolKit.open(File(dir, "local.db").path).getOrThrow()
    kit.loadDemo().getOrThrow()
    val today = kit.today().getOrThrow()

    val due = kit.duePatrols("w01").getOrThrow()
    assertTrue(due.isNotEmpty(), "the demo worker has patrols due")
    val place = due.first()
    val form = kit.patrolForm("w01", place.placeId).getOrThrow()
    val item = form.items.first { it.itemType == ItemType.PASS_FAIL }
    val result = kit.recordPatrol(
        "w01",
        PatrolDraft(
            placeId = place.placeId, startedAtMs = 0, latitude = null, longitude = null, accuracyM = null,
            answers = listOf(ItemAnswer(item.key, Answer.Fail)), raiseItems = listOf(item.key), note = "",
            itemPhotos = listOf(ItemPhoto(item.key, PHOTO)),
        ),
    ).getOrThrow()
    assertEquals(1, result.hazardIds.size)
    val hazard = result.hazardIds.first()
    val again = kit.patrolForm("w01", place.placeId).getOrThrow().items.first { it.key == item.key }
    assertTrue(again.failedLastTime)
    assertEquals(Answer.Fail, again.lastAnswer)
    assertEquals("不合格", answerZh(again.lastAnswer!!))

    var detail = kit.hazard("w01", hazard).getOrThrow()
    assertEquals("reported", detail.summary.status)
    assertTrue("notify" in detail.allowed)
    assertEquals("下发整改通知", verbZh("notify"))
    detail = kit.transition("w01", hazard, Transition.Notify("店主", day(today, 3), "")).getOrThrow()
    assertEquals("notified", detail.summary.status)
    kit.transition("w01", hazard, Transition.StartRectification("")).getOrThrow()
    kit.transition("w01", hazard, Transition.SubmitRectification("已整改", listOf(PHOTO))).getOrThrow()
    val refused = failed<PatrolError.NotAllowed>(
        kit.transition("w01", hazard, Transition.Review(true, "", null)),
    )
    assertEquals("role_not_allowed", refused.code)
    detail = kit.transition("l01", hazard, Transition.Review(true, "复查合格", null)).getOrThrow()
    assertEquals("closed", detail.summary.status)
    assertEquals(emptyList(), detail.allowed)
    assertEquals(
        listOf("report", "notify", "start_rectification", "submit_rectification", "review"),
        detail.timeline.map { it.verb },
    )

    val other = kit.reportHazard(
        "w01", NewHazard(place.placeId, "wiring", Severity.GENERAL, "私拉电线", listOf(PHOTO)),
    ).getOrThrow()
    assertEquals(listOf(PHOTO), kit.hazard("w01", other).getOrThrow().photos)

    val report = kit.report("w01", detail.summary.gridId, day(today, -30), today).getOrThrow()
    assertTrue(report.closed >= 1u && report.hazardsReported >= 2u, "$report")
    assertTrue(report.inGridClosureRate != null)

    // Typed errors for bad input, and nothing stored by them.
    val before = kit.hazards("w01").getOrThrow().size
    val blank = failed<PatrolError.InvalidInput>(
        kit.reportHazard("w01", NewHazard(place.placeId, "wiring", Severity.GENERAL, "  ", emptyList())),
    )
    assertEquals("description", blank.field)
    assertTrue(blank.zh.isNotEmpty() && blank.en.isNotEmpty())
    assertEquals("id", failed<PatrolError.InvalidInput>(kit.hazard("w01", "not-an-id")).field)
    assertEquals(
        "deadline",
        failed<PatrolError.InvalidInput>(kit.transition("w01", other, Transition.Notify("店主", "明天", ""))).field,
    )
    failed<PatrolError.NotFound>(kit.duePatrols("nobody"))
    assertEquals(before, kit.hazards("w01").getOrThrow().size)

    kit.shutdown()
    failed<PatrolError.Storage>(kit.hazards("w01"))
}

suspend fun twoDevices(dir: File, url: String) {
    val worker = PatrolKit.open(File(dir, "worker.db").path).getOrThrow()
    val leader = PatrolKit.open(File(dir, "leader.db").path).getOrThrow()
    failed<PatrolError.AuthExpired>(worker.syncNow())
    failed<PatrolError.AuthExpired>(worker.signIn(url, "w01", "wrong password"))
    worker.signIn(url, "w01", "gridpatrol").getOrThrow()
    leader.signIn(url, "l01", "gridpatrol").getOrThrow()
    val seen = mutableListOf<SyncProgress>()
    worker.syncNow(onProgress = { seen += it }).getOrThrow()
    assertTrue(seen.isNotEmpty(), "progress is reported")
    assertTrue(progressZh(seen.last()).isNotEmpty())
    leader.syncNow().getOrThrow()

    val place = worker.duePatrols("w01").getOrThrow().first().placeId
    val hazard = worker.reportHazard(
        "w01", NewHazard(place, "extinguisher", Severity.GENERAL, "灭火器过期", emptyList()),
    ).getOrThrow()
    val status = worker.syncStatusFlow("w01").first().getOrThrow()
    assertEquals(1uL, status.pendingOps)
    assertEquals("w01", status.userId)
    val pushed = worker.syncNow().getOrThrow()
    assertEquals(1uL, pushed.pushed)
    assertEquals(0uL, pushed.refused)
    assertEquals(0uL, worker.syncStatus("w01").getOrThrow().pendingOps)

    leader.syncNow().getOrThrow()
    assertTrue(leader.hazards("l01").getOrThrow().any { it.id == hazard }, "the leader's phone has it")
    assertEquals(emptyList(), leader.refusedOps().getOrThrow())
    assertEquals(emptyList(), leader.conflicts("l01").getOrThrow())

    // A place found on patrol: registered from the phone, 新增 until the village confirms it;
    // where it belongs is not the worker's to change.
    val found = worker.addPlace(
        "w01",
        NewPlaceInput("g01", "出租房", "巡查新发现出租屋", "东沟村 9 号", "高", "赵某", null, 37.8, 112.5),
    ).getOrThrow()
    assertTrue(worker.duePatrols("w01").getOrThrow().single { it.placeId == found }.pending)
    worker.editPlace("w01", PlaceEdit(found, null, null, null, "钱某", "13600000000")).getOrThrow()
    failed<PatrolError.NotAllowed>(worker.editPlace("w01", PlaceEdit(found, null, null, "低", null, null)))
    assertEquals(0uL, worker.syncNow().getOrThrow().refused)
    leader.syncNow().getOrThrow()
    assertTrue(leader.duePatrols("l01").getOrThrow().any { it.placeId == found && it.pending })

    // A password changed from the phone: the old one is checked, then the new one signs in.
    assertIs<Outcome.Failed>(leader.changePassword("not the password", "另一个长密码-2026"))
    leader.changePassword("gridpatrol", "另一个长密码-2026").getOrThrow()
    assertEquals(false, leader.signIn(url, "l01", "另一个长密码-2026").getOrThrow())
    assertIs<Outcome.Failed>(leader.signIn(url, "l01", "gridpatrol"))

    worker.reportHazard("w01", NewHazard(place, "wiring", Severity.GENERAL, "插座过载", emptyList())).getOrThrow()
    assertEquals("pending_ops", failed<PatrolError.NotAllowed>(worker.signOut()).code)
    assertEquals(true, worker.signOut(force = true).getOrThrow())
    failed<PatrolError.AuthExpired>(worker.syncNow())
}

/**
 * The registers from the phones: w01 signs a place's 责任书 (a fire is not the worker's to
 * record), o01 records a fire and b01 a training with assessments; after a sync the officer's
 * township figures have risen by exactly that.
 */
suspend fun registers(dir: File, url: String) {
    val (officer, worker, brigade) = listOf("o01", "w01", "b01").map { who ->
        PatrolKit.open(File(dir, "registers-$who.db").path).getOrThrow().also {
            it.signIn(url, who, "gridpatrol").getOrThrow()
            it.syncNow().getOrThrow()
        }
    }
    val today = officer.today().getOrThrow()
    val from = day(today, -30)
    val before = officer.report("o01", "t01", from, today).getOrThrow()

    val place = worker.duePatrols("w01").getOrThrow().first { !worker.placeLetter("w01", it.placeId).getOrThrow().inForce }
    val letter = LetterInput(LetterKind.PLEDGE, place.placeId, null, today, "房东", "", emptyList())
    worker.recordLetter("w01", letter).getOrThrow()
    val state = worker.placeLetter("w01", place.placeId).getOrThrow()
    assertEquals(Triple(true, today, "已签订"), Triple(state.inForce, state.signedOn, state.stateZh))
    val fire = FireInput(
        place.gridId, place.placeId, "", System.currentTimeMillis() - 3_600_000, FireCause.SMOKING,
        0u, 1u, 8_000uL, false, "", emptyList(),
    )
    assertEquals("role_not_allowed", failed<PatrolError.NotAllowed>(worker.recordFire("w01", fire)).code)
    assertEquals(0uL, worker.syncNow().getOrThrow().refused)

    assertEquals("吸烟", officer.fireCauses().getOrThrow().single { it.cause == FireCause.SMOKING }.zh)
    val fireId = officer.recordFire("o01", fire).getOrThrow()
    val draft = brigade.startActivityDraft("b01", ActivityType.TRAINING, "t01", today).getOrThrow()
    val trainees = listOf(Trainee("w07", true), Trainee("w08", true))
    brigade.saveActivityDraft("b01", draft, "网格员培训考核", 2u, "", null, emptyList(), emptyList(), trainees).getOrThrow()
    assertEquals(trainees, brigade.activityDraft("b01", draft).getOrThrow().trainees)
    assertIs<DraftOutcome.Activity>(brigade.submitDraft("b01", draft).getOrThrow())
    assertEquals(0uL, brigade.syncNow().getOrThrow().refused)

    assertEquals(0uL, officer.syncNow().getOrThrow().refused)
    val after = officer.report("o01", "t01", from, today).getOrThrow()
    assertEquals(before.fires + 1u, after.fires)
    assertEquals(before.injuries + 1u, after.injuries)
    assertEquals(before.lossYuan + 8_000uL, after.lossYuan)
    assertEquals(before.placesSigned + 1u, after.placesSigned)
    assertEquals(before.assessed + 2u, after.assessed)
    assertEquals(before.passed + 2u, after.passed)
    assertTrue(after.signedRate != null && after.passRate != null, "$after")
    val listed = officer.fires("o01", "t01", from, today).getOrThrow().single { it.fireId == fireId }
    assertEquals("吸烟", listed.causeZh)
    assertTrue(officer.placeLetter("o01", place.placeId).getOrThrow().inForce)
    listOf(officer, worker, brigade).forEach { it.shutdown() }
}

/**
 * A station from a village leader's phone (l02, v02): a grid worker may not keep one; the
 * leader's station lists its one item as due until it is checked; the officer's figures count it.
 */
suspend fun stations(dir: File, url: String) {
    val (officer, leader, worker) = listOf("o01", "l02", "w04").map { who ->
        PatrolKit.open(File(dir, "stations-$who.db").path).getOrThrow().also {
            it.signIn(url, who, "gridpatrol").getOrThrow()
            it.syncNow().getOrThrow()
        }
    }
    val today = officer.today().getOrThrow()
    val before = officer.report("o01", "t01", today, today).getOrThrow()
    val village = leader.userOrgs("l02").getOrThrow().single().orgId
    val station = GroupInput(
        groupId = null, kind = GroupKind.MICRO_STATION, orgId = village, name = "西岭村微型消防站",
        members = listOf(GroupMember("站长丙", null, "站长")), roster = "",
        equipment = listOf(EquipmentInput(null, "灭火器", 8u, 30u, null)), active = true,
    )
    assertEquals("role_not_allowed", failed<PatrolError.NotAllowed>(worker.putGroup("w04", station.copy(orgId = "g04"))).code)
    val group = leader.putGroup("l02", station).getOrThrow()
    val item = leader.groups("l02", village).getOrThrow().single { it.groupId == group }.equipment.single()
    assertEquals(listOf(item.key), leader.equipmentDue("l02").getOrThrow().filter { it.groupId == group }.map { it.item.key })
    leader.checkEquipment("l02", group, today, listOf(ItemCheckInput(item.key, true, "")), emptyList()).getOrThrow()
    assertTrue(leader.equipmentDue("l02").getOrThrow().none { it.groupId == group })
    assertEquals(0uL, leader.syncNow().getOrThrow().refused)

    officer.syncNow().getOrThrow()
    val after = officer.report("o01", "t01", today, today).getOrThrow()
    assertEquals(before.microStations + 1u, after.microStations)
    assertEquals(before.equipmentItems + 1u, after.equipmentItems)
    assertEquals(before.equipmentDue, after.equipmentDue)
    listOf(officer, leader, worker).forEach { it.shutdown() }
}

/** The pass/fail items of the first place due to w01, in checklist order. */
suspend fun draftItems(kit: PatrolKit): Pair<String, List<String>> {
    val place = kit.duePatrols("w01").getOrThrow().first().placeId
    val items = kit.patrolForm("w01", place).getOrThrow().items
        .filter { it.itemType == ItemType.PASS_FAIL && !it.photoOnFail }.map { it.key }
    assertTrue(items.size >= 4, "items to answer: $items")
    return place to items
}

/**
 * A visit half answered, then the JVM is killed (`kill -9` by tests/bindings.sh once this
 * prints its line): the answers were saved as they were given, nothing else keeps them.
 */
suspend fun draftStart(db: String, url: String) {
    val kit = PatrolKit.open(db).getOrThrow()
    kit.signIn(url, "w01", "gridpatrol").getOrThrow()
    kit.syncNow().getOrThrow()
    val (place, items) = draftItems(kit)
    val fix = GpsFix(latitude = 37.81, longitude = 112.52, accuracyM = 18.0, mock = false)
    val draft = kit.startPatrolDraft("w01", place, fix).getOrThrow()
    val half = items.take(items.size / 2)
    for (key in half) kit.saveDraftAnswer("w01", draft, key, Answer.Pass).getOrThrow()
    println("draft saved: $draft ${half.size}")
    System.out.flush()
    Thread.sleep(Long.MAX_VALUE)
}

/** The app started again: the draft is on the home screen with its answers; finish, submit, sync. */
suspend fun draftFinish(db: String) {
    val kit = PatrolKit.open(db).getOrThrow()
    val (place, items) = draftItems(kit)
    val listed = kit.drafts("w01").getOrThrow()
    assertEquals(1, listed.size, "$listed")
    val row = listed.single()
    assertEquals(DraftKind.PATROL, row.kind)
    assertEquals(place, row.placeId)
    assertEquals((items.size / 2).toUInt(), row.answered)
    val resumed = kit.patrolDraft("w01", row.draftId).getOrThrow()
    assertEquals(items.take(items.size / 2).toSet(), resumed.answers.map { it.key }.toSet())
    assertTrue(resumed.answers.all { it.answer == Answer.Pass })
    assertEquals(37.81, resumed.fix?.latitude)
    for (key in items.drop(items.size / 2)) kit.saveDraftAnswer("w01", row.draftId, key, Answer.Pass).getOrThrow()
    val done = kit.submitDraft("w01", row.draftId).getOrThrow()
    assertIs<DraftOutcome.Patrol>(done)
    failed<PatrolError.NotFound>(kit.submitDraft("w01", row.draftId))
    assertEquals(emptyList(), kit.drafts("w01").getOrThrow())
    val sent = kit.syncNow().getOrThrow()
    assertEquals(1uL, sent.pushed)
    assertEquals(0uL, sent.refused)
    println("kotlin draft after kill -9: ok (${items.size} answers, one visit)")
}

fun main(args: Array<String>) = runBlocking {
    val url = System.getenv("GRIDPATROL_SERVER_URL") ?: error("GRIDPATROL_SERVER_URL is not set")
    when (args.firstOrNull()) {
        "draft-start" -> return@runBlocking draftStart(args[1], url)
        "draft-finish" -> return@runBlocking draftFinish(args[1])
    }
    val dir = Files.createTempDirectory("gridpatrol-kotlin").toFile()
    try {
        localLoop(dir)
        twoDevices(dir, url)
        registers(dir, url)
        stations(dir, url)
    } finally {
        dir.deleteRecursively()
    }
    println("kotlin scenario: ok")
}
