package cn.gridpatrol.app.ui

import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.Checkbox
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.ActivityType
import cn.gridpatrol.ffi.GroupEntry
import cn.gridpatrol.ffi.GroupKind
import cn.gridpatrol.ffi.PersonChoice
import cn.gridpatrol.ffi.PublicityChannel
import cn.gridpatrol.ffi.Trainee
import cn.gridpatrol.app.Photos
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.material3.OutlinedButton
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import androidx.compose.ui.platform.LocalContext
import kotlinx.coroutines.launch

/** A drill is held by a station or team, a meeting by a committee. */
private fun heldByGroup(type: ActivityType) = type == ActivityType.DRILL || type == ActivityType.MEETING

/**
 * The group picker of a drill or a meeting: the user's groups that may hold it, in a drop-down
 * menu under a button that shows the one chosen.
 */
@Composable
private fun GroupPicker(choices: List<GroupEntry>, chosen: String?, onChoose: (GroupEntry) -> Unit) {
    var expanded by remember { mutableStateOf(false) }
    val shown = choices.firstOrNull { it.groupId == chosen }
    Box {
        OutlinedButton(onClick = { expanded = true }, enabled = choices.isNotEmpty()) {
            Text(
                when {
                    shown != null -> "${shown.name}（${shown.orgName}）"
                    choices.isEmpty() -> "辖区内没有可选的消防站或委员会"
                    else -> "选择举办单位"
                },
            )
        }
        DropdownMenu(expanded = expanded, onDismissRequest = { expanded = false }) {
            choices.forEach { g ->
                DropdownMenuItem(
                    text = { Text("${g.name}（${g.kindZh} · ${g.orgName}）") },
                    onClick = {
                        expanded = false
                        onChoose(g)
                    },
                )
            }
        }
    }
}

/**
 * A training's trainees (参训): each grid worker of the area with a checkbox and, when checked,
 * their assessment (考核) 合格 / 不合格 / 未考核.
 */
@Composable
private fun TraineePicker(workers: List<PersonChoice>, trainees: List<Trainee>, onChange: (List<Trainee>) -> Unit) {
    Text(if (workers.isEmpty()) "本辖区没有可选的网格员" else "参训网格员")
    workers.forEach { w ->
        val t = trainees.firstOrNull { it.userId == w.userId }
        Row(
            Modifier.horizontalScroll(rememberScrollState()),
            verticalAlignment = Alignment.CenterVertically,
            horizontalArrangement = Arrangement.spacedBy(4.dp),
        ) {
            Checkbox(t != null, { on ->
                onChange(if (on) trainees + Trainee(userId = w.userId, passed = null) else trainees.filter { it.userId != w.userId })
            })
            Text("${w.name} 参训")
            if (t != null) {
                listOf(true to "合格", false to "不合格", null to "未考核").forEach { (passed, label) ->
                    FilterChip(t.passed == passed, {
                        onChange(trainees.map { if (it.userId == w.userId) it.copy(passed = passed) else it })
                    }, label = { Text(label) })
                }
            }
        }
    }
}

/**
 * 活动登记: a publicity event and where it went (宣传"五进"), a training with its sign-in list,
 * held in the worker's grid, or a drill (消防演练) by one of the user's stations or teams or a
 * meeting (会议) of one of their committees, held where that group is; with the number of
 * people reached and photos; a training also names the grid workers trained, with their assessment,
 * and its head count covers them and the sign-in list. Saved as a draft as it is typed; [draftId] resumes one from 续填.
 */
@Composable
fun ActivityScreen(kit: PatrolKit, user: String, draftId: String?, onDone: () -> Unit) {
    val context = LocalContext.current
    var draft by rememberSaveable { mutableStateOf(draftId) }
    var grids by remember { mutableStateOf<List<String>>(emptyList()) }
    var groups by remember { mutableStateOf<List<GroupEntry>>(emptyList()) }
    var drillKinds by remember { mutableStateOf<Set<GroupKind>>(emptySet()) }
    var group by remember { mutableStateOf<String?>(null) }
    var type by remember { mutableStateOf(ActivityType.PUBLICITY) }
    var grid by remember { mutableStateOf("") }
    var title by remember { mutableStateOf("") }
    var audience by remember { mutableStateOf("") }
    var note by remember { mutableStateOf("") }
    var channel by remember { mutableStateOf<PublicityChannel?>(null) }
    var attendees by remember { mutableStateOf("") }
    var photos by remember { mutableStateOf<List<String>>(emptyList()) }
    var workers by remember { mutableStateOf<List<PersonChoice>>(emptyList()) }
    var trainees by remember { mutableStateOf<List<Trainee>>(emptyList()) }
    var capture by rememberSaveable { mutableStateOf<String?>(null) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    val saves = rememberSaveQueue()

    LaunchedEffect(user, draftId) {
        grids = kit.duePatrols(user).getOrNull().orEmpty().map { it.gridId }.distinct()
        groups = userGroups(kit, user) { error = it }
        drillKinds = kit.groupKinds().getOrNull().orEmpty().filter { it.keepsEquipment }.map { it.kind }.toSet()
        val resume = draft
        if (resume != null) {
            kit.activityDraft(user, resume).orReport { error = it }?.let { a ->
                type = a.activity
                grid = a.orgId
                group = a.groupId
                title = a.title
                audience = a.audience.toString()
                note = a.note
                channel = a.channel
                attendees = a.attendees.joinToString("\n")
                photos = a.photos
                trainees = a.trainees
            }
        }
    }
    LaunchedEffect(draft, type, grid) {
        if (draft != null && type == ActivityType.TRAINING && grid.isNotEmpty()) {
            workers = kit.gridWorkersIn(user, grid).orReport { error = it }.orEmpty()
        }
    }
    /** The sign-in list, one name a line. */
    fun names() = attendees.lines().map { it.trim() }.filter { it.isNotEmpty() }
    /** The fewest people a training can have had: its sign-in list and its trainees. */
    fun headCount() = names().size + trainees.size
    /** Raises the 参加人次 field to the head count when it is below. */
    fun keepHeadCount() {
        if ((audience.toIntOrNull() ?: 0) < headCount()) audience = headCount().toString()
    }
    suspend fun store(id: String) = kit.saveActivityDraft(
        user, id, title, maxOf(audience.toUIntOrNull() ?: 0u, headCount().toUInt()), note, channel, names(), photos,
        trainees,
    )
    fun save() {
        val id = draft ?: return
        saves.then { store(id).orReport { error = it } }
    }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val path = capture
        capture = null
        if (saved && path != null) {
            scope.launch { kit.addPhotoFile(path).orReport { error = it }?.let { photos = photos + it; save() } }
        }
    }
    Column(Modifier.verticalScroll(rememberScrollState()).padding(16.dp), verticalArrangement = Arrangement.spacedBy(10.dp)) {
        if (draft == null) {
            Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                listOf(
                    ActivityType.PUBLICITY to "消防宣传", ActivityType.TRAINING to "消防培训",
                    ActivityType.DRILL to "消防演练", ActivityType.MEETING to "会议",
                ).forEach { (t, label) -> FilterChip(type == t, { type = t; group = null }, label = { Text(label) }) }
            }
            val held = groups.filter { g ->
                when (type) {
                    ActivityType.DRILL -> g.kind in drillKinds
                    ActivityType.MEETING -> g.kind !in drillKinds
                    else -> false
                }
            }
            val chosen = held.firstOrNull { it.groupId == group }
            if (heldByGroup(type)) {
                GroupPicker(held, group) { group = it.groupId }
            } else {
                Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    grids.forEach { g -> FilterChip(grid == g, { grid = g }, label = { Text(g) }) }
                }
            }
            Button(onClick = {
                scope.launch {
                    val today = kit.today().orReport { error = it } ?: return@launch
                    // A drill or meeting is logged where its group is, so its figures count there.
                    val org = chosen?.orgId ?: grid
                    draft = kit.startActivityDraft(user, type, org, today, chosen?.groupId).orReport { error = it }
                }
            }, enabled = if (heldByGroup(type)) chosen != null else grid.isNotEmpty()) { Text("开始登记") }
        } else {
            groups.firstOrNull { it.groupId == group }?.let { g -> Text("举办单位：${g.name}（${g.kindZh}）") }
            OutlinedTextField(title, { title = it; save() }, label = { Text("活动名称（如：消防安全进农村）") })
            OutlinedTextField(
                audience, { audience = it.filter(Char::isDigit); save() }, label = { Text("参加人次") },
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Number),
            )
            if (type == ActivityType.PUBLICITY) {
                Row(horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                    listOf(
                        PublicityChannel.ENTERPRISES to "进企业", PublicityChannel.VILLAGES to "进农村",
                        PublicityChannel.COMMUNITIES to "进社区", PublicityChannel.SCHOOLS to "进学校",
                        PublicityChannel.FAMILIES to "进家庭",
                    ).forEach { (c, label) -> FilterChip(channel == c, { channel = c; save() }, label = { Text(label) }) }
                }
            } else {
                OutlinedTextField(
                    attendees, { attendees = it; keepHeadCount(); save() }, label = { Text("签到名单（每行一人）") }, minLines = 3,
                )
            }
            if (type == ActivityType.TRAINING) {
                TraineePicker(workers, trainees) { trainees = it; keepHeadCount(); save() }
            }
            OutlinedTextField(note, { note = it; save() }, label = { Text("说明") }, minLines = 2)
            OutlinedButton(onClick = {
                val (file, uri) = Photos.newCapture(context)
                capture = file.path
                camera.launch(uri)
            }) { Text("拍照（已拍 ${photos.size} 张）") }
        }
        ErrorLine(error)
        draft?.let { id ->
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = {
                    saves.then {
                        store(id).orReport { error = it } ?: return@then
                        kit.submitDraft(user, id).orReport { error = it }?.let {
                            SyncWorker.syncSoon(context)
                            onDone()
                        }
                    }
                }) { Text("提交") }
                DiscardButton("放弃这次登记？", "已填写的内容和照片将被删除，无法恢复。") {
                    saves.then { kit.discardDraft(user, id).orReport { error = it }?.let { onDone() } }
                }
            }
        }
    }
}
