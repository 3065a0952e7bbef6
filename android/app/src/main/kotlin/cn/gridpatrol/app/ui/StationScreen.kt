package cn.gridpatrol.app.ui

import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
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
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.Photos
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.EquipmentDue
import cn.gridpatrol.ffi.GroupEntry
import cn.gridpatrol.ffi.ItemCheckInput
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch

/**
 * The active stations, teams and committees of the areas the user answers for (a leader's
 * village, a worker's grids), each once; a failed read goes to [onError].
 */
suspend fun userGroups(kit: PatrolKit, user: String, onError: (PatrolError) -> Unit): List<GroupEntry> =
    kit.userOrgs(user).orReport(onError).orEmpty()
        .flatMap { o -> kit.groups(user, o.orgId).orReport(onError).orEmpty() }
        .filter { it.active }
        .distinctBy { it.groupId }

/**
 * 消防站: the equipment due for its check today (what the user may check, never checked first),
 * then the user's stations, teams and committees with their members and duty roster; 检查 opens
 * a station's or team's check, and for the roles that keep groups 新建 and 编辑 open the editor
 * ([onEdit] with null for a new one).
 */
@Composable
fun StationScreen(kit: PatrolKit, user: String, onCheck: (String) -> Unit, onEdit: (String?) -> Unit) {
    var groups by remember { mutableStateOf<List<GroupEntry>>(emptyList()) }
    var due by remember { mutableStateOf<List<EquipmentDue>>(emptyList()) }
    var loaded by remember { mutableStateOf(false) }
    var mayKeep by remember { mutableStateOf(false) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    LaunchedEffect(user) {
        mayKeep = kit.mayKeepGroups(user).getOrNull() == true
        due = kit.equipmentDue(user).orReport { error = it }.orEmpty()
        groups = userGroups(kit, user) { error = it }
        loaded = true
    }
    ErrorLine(error)
    LazyColumn {
        if (due.isNotEmpty()) {
            item { Text("器材待检查（${due.size} 项）", Modifier.padding(12.dp), style = MaterialTheme.typography.titleSmall) }
        }
        items(due, key = { "${it.groupId}/${it.item.key}" }) { d ->
            val last = d.lastChecked?.let { "上次 $it ${d.lastResultZh}" } ?: d.lastResultZh
            ListItem(
                headlineContent = { Text("${d.item.kind} ×${d.item.count}") },
                supportingContent = {
                    Column {
                        Text("${d.groupName} · $last")
                        if (d.expired) Text("已过有效期（${d.item.expiresOn}）", color = MaterialTheme.colorScheme.error)
                    }
                },
                trailingContent = { TextButton(onClick = { onCheck(d.groupId) }) { Text("检查") } },
            )
        }
        item {
            Row(verticalAlignment = Alignment.CenterVertically) {
                Text("消防站与组织", Modifier.padding(12.dp), style = MaterialTheme.typography.titleSmall)
                if (mayKeep) TextButton(onClick = { onEdit(null) }) { Text("新建") }
            }
        }
        if (loaded && groups.isEmpty()) {
            item { Text("辖区内暂无登记的消防站、志愿消防队或委员会", Modifier.padding(12.dp)) }
        }
        items(groups, key = { it.groupId }) { g ->
            ListItem(
                headlineContent = { Text(g.name) },
                supportingContent = {
                    Column {
                        Text("${g.kindZh} · ${g.orgName} · 成员 ${g.members.size} 人")
                        if (g.members.isNotEmpty()) {
                            Text(g.members.joinToString("、") { m -> if (m.duty.isEmpty()) m.name else "${m.name}（${m.duty}）" })
                        }
                        if (g.roster.isNotEmpty()) Text("值班：${g.roster}")
                        if (g.equipment.isNotEmpty()) Text("器材：" + g.equipment.joinToString("、") { "${it.kind} ${it.count}" })
                    }
                },
                trailingContent = {
                    Column {
                        if (g.equipment.isNotEmpty()) TextButton(onClick = { onCheck(g.groupId) }) { Text("检查") }
                        if (mayKeep) TextButton(onClick = { onEdit(g.groupId) }) { Text("编辑") }
                    }
                },
            )
        }
    }
}

/**
 * 器材检查 of one station or team: each item marked 完好 or 损坏 (what is damaged may say how),
 * items due first, with photos; saved once, for today. Only the items marked are recorded, so a
 * partial check leaves the rest due. The marks survive the camera pushing the app out.
 */
@Composable
fun EquipmentCheckScreen(kit: PatrolKit, user: String, groupId: String, onDone: () -> Unit) {
    val context = LocalContext.current
    var group by remember { mutableStateOf<GroupEntry?>(null) }
    var due by remember { mutableStateOf<Set<String>>(emptySet()) }
    // Plain maps and a string: what a saved instance state keeps for sure.
    var marks by rememberSaveable { mutableStateOf(HashMap<String, Boolean>()) }
    var notes by rememberSaveable { mutableStateOf(HashMap<String, String>()) }
    var photos by rememberSaveable { mutableStateOf("") }
    var capture by rememberSaveable { mutableStateOf<String?>(null) }
    var saving by remember { mutableStateOf(false) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    LaunchedEffect(user, groupId) {
        group = userGroups(kit, user) { error = it }.firstOrNull { it.groupId == groupId }
        due = kit.equipmentDue(user).orReport { error = it }.orEmpty()
            .filter { it.groupId == groupId }.map { it.item.key }.toSet()
    }
    fun hashes() = photos.lines().filter { it.isNotBlank() }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val path = capture
        capture = null
        if (saved && path != null) {
            scope.launch { kit.addPhotoFile(path).orReport { error = it }?.let { photos = (hashes() + it).joinToString("\n") } }
        }
    }
    Column(Modifier.padding(16.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        group?.let { g ->
            Text(g.name, style = MaterialTheme.typography.titleMedium)
            Text("${g.kindZh} · ${g.orgName}")
            g.equipment.sortedBy { it.key !in due }.forEach { e ->
                Text(if (e.key in due) "${e.kind} ×${e.count}（待检查）" else "${e.kind} ×${e.count}")
                Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    FilterChip(marks[e.key] == true, { marks = HashMap(marks).apply { put(e.key, true) } }, label = { Text("完好") })
                    FilterChip(marks[e.key] == false, { marks = HashMap(marks).apply { put(e.key, false) } }, label = { Text("损坏") })
                }
                if (marks[e.key] == false) {
                    OutlinedTextField(
                        notes[e.key].orEmpty(), { v -> notes = HashMap(notes).apply { put(e.key, v) } },
                        label = { Text("损坏或缺失情况（可不填）") },
                    )
                }
            }
        }
        OutlinedButton(onClick = {
            val (file, uri) = Photos.newCapture(context)
            capture = file.path
            camera.launch(uri)
        }) { Text("拍照（已拍 ${hashes().size} 张，可不拍）") }
        ErrorLine(error)
        Button(enabled = !saving && marks.isNotEmpty(), onClick = {
            saving = true
            scope.launch {
                val today = kit.today().orReport { error = it }
                if (today != null) {
                    val items = marks.map { (key, ok) -> ItemCheckInput(key, ok, if (ok) "" else notes[key].orEmpty()) }
                    kit.checkEquipment(user, groupId, today, items, hashes()).orReport { error = it }?.let {
                        SyncWorker.syncSoon(context)
                        onDone()
                    }
                }
                saving = false
            }
        }) { Text("保存") }
    }
}
