package cn.gridpatrol.patrolkit

import cn.gridpatrol.ffi.ActivityInProgress
import cn.gridpatrol.ffi.ActivityType
import cn.gridpatrol.ffi.Answer
import cn.gridpatrol.ffi.ConflictItem
import cn.gridpatrol.ffi.DeviceConfig
import cn.gridpatrol.ffi.DraftOutcome
import cn.gridpatrol.ffi.DraftSummary
import cn.gridpatrol.ffi.GpsFix
import cn.gridpatrol.ffi.DuePatrol
import cn.gridpatrol.ffi.EquipmentDue
import cn.gridpatrol.ffi.FireCauseChoice
import cn.gridpatrol.ffi.FireEntry
import cn.gridpatrol.ffi.FireInput
import cn.gridpatrol.ffi.GridPatrolException
import cn.gridpatrol.ffi.GroupEntry
import cn.gridpatrol.ffi.GroupInput
import cn.gridpatrol.ffi.GroupKindChoice
import cn.gridpatrol.ffi.HazardDetail
import cn.gridpatrol.ffi.HazardInProgress
import cn.gridpatrol.ffi.HazardSummary
import cn.gridpatrol.ffi.ItemCheckInput
import cn.gridpatrol.ffi.ItemHazard
import cn.gridpatrol.ffi.LetterEntry
import cn.gridpatrol.ffi.LetterInput
import cn.gridpatrol.ffi.LetterKindChoice
import cn.gridpatrol.ffi.LocalNotice
import cn.gridpatrol.ffi.NewHazard
import cn.gridpatrol.ffi.NewPlaceInput
import cn.gridpatrol.ffi.OrgChoice
import cn.gridpatrol.ffi.PatrolDraft
import cn.gridpatrol.ffi.PatrolForm
import cn.gridpatrol.ffi.PatrolInProgress
import cn.gridpatrol.ffi.PatrolResult
import cn.gridpatrol.ffi.PatrolStore
import cn.gridpatrol.ffi.PersonChoice
import cn.gridpatrol.ffi.PlaceChoice
import cn.gridpatrol.ffi.PlaceEdit
import cn.gridpatrol.ffi.PlaceLetter
import cn.gridpatrol.ffi.PlaceTypeChoice
import cn.gridpatrol.ffi.PhotoVariant
import cn.gridpatrol.ffi.PublicityChannel
import cn.gridpatrol.ffi.RefusedOp
import cn.gridpatrol.ffi.ReminderCounts
import cn.gridpatrol.ffi.ReportFigures
import cn.gridpatrol.ffi.Severity
import cn.gridpatrol.ffi.SyncListener
import cn.gridpatrol.ffi.SyncProgress
import cn.gridpatrol.ffi.SyncReport
import cn.gridpatrol.ffi.SyncStatus
import cn.gridpatrol.ffi.Trainee
import cn.gridpatrol.ffi.Transition
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.merge
import kotlinx.coroutines.withContext
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * The app's way into the core: every call is a suspend function that runs the blocking core
 * call on [io] (never the main thread) and answers with an [Outcome]. No android.* here, so it
 * runs and is tested on a plain JVM.
 */
class PatrolKit(private val store: PatrolStore, private val io: CoroutineDispatcher = Dispatchers.IO) {

    private val synced = MutableSharedFlow<Unit>(extraBufferCapacity = 1)

    private suspend fun <T> call(block: PatrolStore.() -> T): Outcome<T> = withContext(io) {
        try {
            Outcome.Ok(store.block())
        } catch (e: GridPatrolException) {
            Outcome.Failed(PatrolError.from(e))
        }
    }

    suspend fun loadDemo(): Outcome<Unit> = call { loadDemo() }
    suspend fun today(): Outcome<String> = call { today() }
    suspend fun duePatrols(userId: String): Outcome<List<DuePatrol>> = call { duePatrols(userId) }
    suspend fun patrolForm(userId: String, placeId: String): Outcome<PatrolForm> = call { patrolForm(userId, placeId) }
    suspend fun recordPatrol(userId: String, draft: PatrolDraft): Outcome<PatrolResult> =
        call { recordPatrol(userId, draft) }
    suspend fun reportHazard(userId: String, hazard: NewHazard): Outcome<String> =
        call { reportHazard(userId, hazard) }
    suspend fun hazards(userId: String): Outcome<List<HazardSummary>> = call { hazards(userId) }
    suspend fun hazard(userId: String, hazardId: String): Outcome<HazardDetail> =
        call { hazard(userId, hazardId) }
    suspend fun transition(userId: String, hazardId: String, t: Transition): Outcome<HazardDetail> =
        call { transition(userId, hazardId, t) }
    suspend fun report(userId: String, scopeId: String, from: String, to: String): Outcome<ReportFigures> =
        call { report(userId, scopeId, from, to) }
    /** Signs in; `true` when the password is a first one, to be changed now ([changePassword]). */
    suspend fun signIn(server: String, userId: String, password: String): Outcome<Boolean> =
        call { signIn(server, userId, password) }
    suspend fun changePassword(old: String, new: String): Outcome<Unit> =
        call { changePassword(old, new) }
    /** The place types a place can be registered as. */
    suspend fun placeTypes(): Outcome<List<PlaceTypeChoice>> = call { placeTypes() }
    /** Registers a place found on patrol (新增 until the village or township confirms it). */
    suspend fun addPlace(userId: String, place: NewPlaceInput): Outcome<String> =
        call { addPlace(userId, place) }
    /** Corrects a place's name, address or responsible person. */
    suspend fun editPlace(userId: String, edit: PlaceEdit): Outcome<Unit> =
        call { editPlace(userId, edit) }
    suspend fun signOut(force: Boolean = false): Outcome<Boolean> = call { signOut(force) }

    // Drafts: every screen saves as the person works, so a killed app or a restarted phone
    // loses nothing; the home screen lists them (续填) until submitted or discarded on purpose.
    suspend fun drafts(userId: String): Outcome<List<DraftSummary>> = call { drafts(userId) }
    suspend fun startPatrolDraft(userId: String, placeId: String, fix: GpsFix?): Outcome<String> =
        call { startPatrolDraft(userId, placeId, fix) }
    suspend fun saveDraftAnswer(userId: String, draftId: String, itemKey: String, answer: Answer?): Outcome<Unit> =
        call { saveDraftAnswer(userId, draftId, itemKey, answer) }
    suspend fun saveDraftItemHazard(userId: String, draftId: String, itemKey: String, hazard: ItemHazard?): Outcome<Unit> =
        call { saveDraftItemHazard(userId, draftId, itemKey, hazard) }
    suspend fun saveDraftNote(userId: String, draftId: String, note: String, fix: GpsFix?): Outcome<Unit> =
        call { saveDraftNote(userId, draftId, note, fix) }
    suspend fun patrolDraft(userId: String, draftId: String): Outcome<PatrolInProgress> =
        call { patrolDraft(userId, draftId) }
    suspend fun startHazardDraft(
        userId: String, placeId: String, category: String, severity: Severity, fix: GpsFix?,
    ): Outcome<String> = call { startHazardDraft(userId, placeId, category, severity, fix) }
    suspend fun saveHazardDraft(
        userId: String, draftId: String, category: String, severity: Severity, description: String,
        photos: List<String>, fix: GpsFix? = null,
    ): Outcome<Unit> = call { saveHazardDraft(userId, draftId, category, severity, description, photos, fix) }
    suspend fun hazardDraft(userId: String, draftId: String): Outcome<HazardInProgress> =
        call { hazardDraft(userId, draftId) }
    /** [groupId]: a drill's station or team, a meeting's committee, of [orgId]. */
    suspend fun startActivityDraft(
        userId: String, activity: ActivityType, orgId: String, heldOn: String, groupId: String? = null,
    ): Outcome<String> = call { startActivityDraft(userId, activity, orgId, heldOn, groupId) }
    /** [trainees]: a training's people by account with their assessment (考核), if any. */
    suspend fun saveActivityDraft(
        userId: String, draftId: String, title: String, audience: UInt, note: String,
        channel: PublicityChannel?, attendees: List<String>, photos: List<String>,
        trainees: List<Trainee> = emptyList(),
    ): Outcome<Unit> =
        call { saveActivityDraft(userId, draftId, title, audience, note, channel, attendees, photos, trainees) }
    suspend fun activityDraft(userId: String, draftId: String): Outcome<ActivityInProgress> =
        call { activityDraft(userId, draftId) }
    /** The grid workers a training held for [orgId] may name as trainees, by name. */
    suspend fun gridWorkersIn(userId: String, orgId: String): Outcome<List<PersonChoice>> =
        call { gridWorkersIn(userId, orgId) }

    // Registers: fires (火灾情况) recorded by the village, township or brigade, and signed
    // letters (责任书、承诺书) and village pacts (防火公约); a place's file flags a letter not in force.
    suspend fun fireCauses(): Outcome<List<FireCauseChoice>> = call { fireCauses() }
    /** Whether the user's role records fires (the core's rule), to offer 火灾登记 only then. */
    suspend fun mayRecordFire(userId: String): Outcome<Boolean> = call { mayRecordFire(userId) }
    /** Every active place of the user's grids, for a form that names one. */
    suspend fun places(userId: String): Outcome<List<PlaceChoice>> = call { places(userId) }
    /** Records a fire; a grid worker is refused ([PatrolError.NotAllowed], `role_not_allowed`). */
    suspend fun recordFire(userId: String, fire: FireInput): Outcome<String> = call { recordFire(userId, fire) }
    suspend fun fires(userId: String, scopeId: String, from: String, to: String): Outcome<List<FireEntry>> =
        call { fires(userId, scopeId, from, to) }
    suspend fun letterKinds(): Outcome<List<LetterKindChoice>> = call { letterKinds() }
    suspend fun recordLetter(userId: String, letter: LetterInput): Outcome<String> =
        call { recordLetter(userId, letter) }
    suspend fun letters(userId: String, scopeId: String, from: String, to: String): Outcome<List<LetterEntry>> =
        call { letters(userId, scopeId, from, to) }
    /** The place's letter: signed when, and whether in force (未签订, 已过期 otherwise). */
    suspend fun placeLetter(userId: String, placeId: String): Outcome<PlaceLetter> =
        call { placeLetter(userId, placeId) }

    // Stations, teams and committees (消防站): kept whole by the village or township, their
    // equipment checked by whoever holds the group's area and falling due again after its cycle.
    suspend fun groupKinds(): Outcome<List<GroupKindChoice>> = call { groupKinds() }
    /** The areas the user answers for (a leader's village), where their groups and activities belong. */
    suspend fun userOrgs(userId: String): Outcome<List<OrgChoice>> = call { userOrgs(userId) }
    /** Whether the user's role keeps groups (the core's rule), to offer 新建 and 编辑 only then. */
    suspend fun mayKeepGroups(userId: String): Outcome<Boolean> = call { mayKeepGroups(userId) }
    /** Records a group whole (new, or edited with its id); a grid worker is refused. */
    suspend fun putGroup(userId: String, group: GroupInput): Outcome<String> = call { putGroup(userId, group) }
    suspend fun groups(userId: String, scopeId: String): Outcome<List<GroupEntry>> =
        call { groups(userId, scopeId) }
    /** Records a check of some of a group's items on [checkedOn] (`YYYY-MM-DD`), with photos. */
    suspend fun checkEquipment(
        userId: String, groupId: String, checkedOn: String, items: List<ItemCheckInput>, photos: List<String>,
    ): Outcome<String> = call { checkEquipment(userId, groupId, checkedOn, items, photos) }
    /** The items the user may check that are due today (器材待检查). */
    suspend fun equipmentDue(userId: String): Outcome<List<EquipmentDue>> = call { equipmentDue(userId) }

    /** What waits for the user today (home screen). */
    suspend fun reminders(userId: String): Outcome<ReminderCounts> = call { reminders(userId) }
    /** The local notifications to schedule now; [lastSummaryOn] is the day a summary was last shown. */
    suspend fun notices(userId: String, lastSummaryOn: String?): Outcome<List<LocalNotice>> =
        call { notices(userId, lastSummaryOn) }

    /** Submits once: a second call finds no draft ([PatrolError.NotFound]). */
    suspend fun submitDraft(userId: String, draftId: String): Outcome<DraftOutcome> =
        call { submitDraft(userId, draftId) }
    suspend fun discardDraft(userId: String, draftId: String): Outcome<Unit> =
        call { discardDraft(userId, draftId) }
    suspend fun refusedOps(): Outcome<List<RefusedOp>> = call { refusedOps() }
    suspend fun conflicts(userId: String): Outcome<List<ConflictItem>> = call { conflicts(userId) }
    suspend fun fetchPhoto(userId: String, sha256: String, variant: PhotoVariant): Outcome<String> =
        call { fetchPhoto(userId, sha256, variant) }
    suspend fun syncStatus(userId: String?): Outcome<SyncStatus> = call { syncStatus(userId) }
    /** Keeps a photo file as the camera wrote it, under its SHA-256 (returned). */
    suspend fun addPhotoFile(path: String): Outcome<String> = call { addPhotoFile(path) }

    /**
     * Sends what is pending and fetches what is new, then photos; with [originals] false (a
     * metered link) only thumbnails and display copies go and originals wait. [onProgress] is
     * called on the IO thread.
     */
    suspend fun syncNow(originals: Boolean = true, onProgress: (SyncProgress) -> Unit = {}): Outcome<SyncReport> {
        val listener = object : SyncListener {
            override fun onProgress(progress: SyncProgress) = onProgress(progress)
        }
        val outcome = call { if (originals) syncNow(listener) else syncMetered(listener) }
        synced.tryEmit(Unit)
        return outcome
    }

    /**
     * The sync screen's status: now, after every [syncNow], and every [every] (so pending counts
     * follow work done on other screens).
     */
    fun syncStatusFlow(userId: String?, every: Duration = 30.seconds): Flow<Outcome<SyncStatus>> {
        val ticks = flow {
            while (true) {
                emit(Unit)
                delay(every)
            }
        }
        return flow { merge(ticks, synced).collect { emit(call { syncStatus(userId) }) } }.flowOn(io)
    }

    /** Cancels a running call (a long sync); later calls run normally. */
    fun interrupt() = store.interrupt()

    /** Closes the database; later calls answer [PatrolError.Storage]. */
    fun shutdown() = store.shutdown()

    companion object {
        /** Opens the device database at [path] on [io]. */
        suspend fun open(path: String, io: CoroutineDispatcher = Dispatchers.IO): Outcome<PatrolKit> =
            withContext(io) {
                try {
                    Outcome.Ok(PatrolKit(PatrolStore.open(path, DeviceConfig(fixedClockMs = null)), io))
                } catch (e: GridPatrolException) {
                    Outcome.Failed(PatrolError.from(e))
                }
            }
    }
}
