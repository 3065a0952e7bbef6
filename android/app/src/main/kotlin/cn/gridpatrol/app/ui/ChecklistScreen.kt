package cn.gridpatrol.app.ui

import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateMapOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.Location
import cn.gridpatrol.app.Photos
import cn.gridpatrol.app.ReminderWorker
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.Answer
import cn.gridpatrol.ffi.ChecklistItem
import cn.gridpatrol.ffi.ItemHazard
import cn.gridpatrol.ffi.ItemType
import cn.gridpatrol.ffi.PatrolForm
import cn.gridpatrol.ffi.PlaceLetter
import cn.gridpatrol.ffi.answerZh
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch

/**
 * 巡查表: the place's checklist, items that failed last time and plan focus marked. The visit is
 * a draft in the core from the first tap: every answer, hazard wording, photo and note is saved
 * as it is given, so a killed app or a restarted phone finds it again here (and on 今日巡查 under
 * 续填). A failed item becomes a hazard with its own wording (prefilled, editable) and photos.
 * GPS is asked for once in the background; the checklist never waits for it. Saves go one at a
 * time in the order they were made (a fair lock), each reading the screen as it is then, and
 * 提交 waits for them: a late save can never put back older text.
 */
@Composable
fun ChecklistScreen(
    kit: PatrolKit,
    user: String,
    placeId: String,
    onReportOther: () -> Unit,
    onEditResponsible: () -> Unit,
    onLetter: () -> Unit,
    onDone: () -> Unit,
) {
    val context = LocalContext.current
    var form by remember { mutableStateOf<PatrolForm?>(null) }
    var letter by remember { mutableStateOf<PlaceLetter?>(null) }
    var draft by rememberSaveable { mutableStateOf<String?>(null) }
    val answers = remember { mutableStateMapOf<String, Answer>() }
    val hazards = remember { mutableStateMapOf<String, ItemHazard>() }
    var note by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    // Item key and file path of the photo being taken, kept if the camera pushes the app out.
    var capture by rememberSaveable { mutableStateOf<List<String>?>(null) }
    val scope = rememberCoroutineScope()
    val saves = rememberSaveQueue()

    LaunchedEffect(placeId) {
        form = kit.patrolForm(user, placeId).orReport { error = it } ?: return@LaunchedEffect
        letter = kit.placeLetter(user, placeId).orReport { error = it }
        // The visit already begun here (the core keeps one per place), or a new one.
        val id = kit.startPatrolDraft(user, placeId, null).orReport { error = it } ?: return@LaunchedEffect
        kit.patrolDraft(user, id).orReport { error = it }?.let { saved ->
            saved.answers.forEach { answers[it.key] = it.answer }
            saved.hazards.forEach { hazards[it.itemKey] = it }
            note = saved.note
        }
        draft = id
        // A fix if one comes within seconds; none is recorded as none.
        Location.currentFix(context)?.let { fix -> saves.then { kit.saveDraftNote(user, id, note, fix) } }
    }

    fun saveHazard(key: String, hazard: ItemHazard?) {
        val id = draft ?: return
        if (hazard == null) hazards.remove(key) else hazards[key] = hazard
        saves.then { kit.saveDraftItemHazard(user, id, key, hazards[key]).orReport { error = it } }
    }

    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val (key, path) = capture ?: return@rememberLauncherForActivityResult
        capture = null
        if (!saved) return@rememberLauncherForActivityResult
        scope.launch {
            val hash = kit.addPhotoFile(path).orReport { error = it } ?: return@launch
            val h = hazards[key] ?: ItemHazard(key, null, emptyList())
            saveHazard(key, h.copy(photos = h.photos + hash))
        }
    }

    val f = form ?: return ErrorLine(error)
    val id = draft ?: return ErrorLine(error)
    LazyColumn(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        item {
            Text("${f.placeName} · ${f.templateName}", style = MaterialTheme.typography.titleMedium)
            TextButton(onClick = onEditResponsible) { Text("负责人有变化？修改") }
            letter?.let { l -> LetterLine(l, onLetter) }
        }
        items(f.items, key = { it.key }) { item ->
            ItemRow(item, answers[item.key]) { a ->
                answers[item.key] = a
                saves.then { kit.saveDraftAnswer(user, id, item.key, a).orReport { error = it } }
                // A failure is raised by default, in the library's words; a pass takes it back.
                if (a == Answer.Fail && item.key !in hazards) saveHazard(item.key, ItemHazard(item.key, null, emptyList()))
                if (a != Answer.Fail && item.key in hazards) saveHazard(item.key, null)
            }
            hazards[item.key]?.let { h ->
                FailedItem(item, h, onChange = { saveHazard(item.key, it) }, onPhoto = {
                    val (file, uri) = Photos.newCapture(context)
                    capture = listOf(item.key, file.path)
                    camera.launch(uri)
                })
            }
        }
        item {
            OutlinedTextField(
                note,
                { note = it; saves.then { kit.saveDraftNote(user, id, note, null).orReport { e -> error = e } } },
                label = { Text("备注") },
            )
            ErrorLine(error)
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = {
                    saves.then {
                        kit.submitDraft(user, id).orReport { error = it }?.let {
                            SyncWorker.syncSoon(context)
                            ReminderWorker.refresh(context)
                            onDone()
                        }
                    }
                }) { Text("提交巡查") }
                TextButton(onClick = onReportOther) { Text("上报其他隐患") }
                DiscardButton("放弃本次巡查？", "已填写的答案、照片和备注将被删除，无法恢复。") {
                    saves.then { kit.discardDraft(user, id).orReport { error = it }?.let { onDone() } }
                }
            }
        }
    }
}

/** The place's 责任书: signed when and in force until, or flagged (未签订, 已过期), and 登记签订. */
@Composable
private fun LetterLine(letter: PlaceLetter, onLetter: () -> Unit) {
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        if (letter.inForce) {
            Text("责任书：${letter.signedOn} 签订，有效至 ${letter.lapsesOn}")
        } else {
            val signed = letter.signedOn?.let { "（$it 签订）" }.orEmpty()
            Text("责任书：${letter.stateZh}$signed", color = MaterialTheme.colorScheme.error)
        }
        TextButton(onClick = onLetter) { Text("登记签订") }
    }
}

/** A failed item's hazard: its wording (the library's until edited) and its photos. */
@Composable
private fun FailedItem(item: ChecklistItem, h: ItemHazard, onChange: (ItemHazard?) -> Unit, onPhoto: () -> Unit) {
    Column(Modifier.padding(start = 12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
        OutlinedTextField(
            value = h.description ?: item.failureWording,
            onValueChange = { onChange(h.copy(description = it)) },
            label = { Text("隐患描述") },
        )
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            val needed = if (item.photoOnFail && h.photos.isEmpty()) "（须拍照）" else ""
            OutlinedButton(onClick = onPhoto) { Text("拍照 ${h.photos.size} 张$needed") }
            TextButton(onClick = { onChange(null) }) { Text("不作为隐患上报") }
        }
    }
}

@Composable
private fun ItemRow(item: ChecklistItem, answer: Answer?, onAnswer: (Answer) -> Unit) {
    Column {
        val marks = buildString {
            if (item.focus) append(" ★重点")
            if (item.failedLastTime) append(" ⚠")
            item.lastAnswer?.let { append(" 上次：${answerZh(it)}") }
        }
        Text(item.label + marks)
        when (item.itemType) {
            ItemType.PASS_FAIL -> Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
                listOf(Answer.Pass, Answer.Fail, Answer.NotApplicable).forEach { a ->
                    FilterChip(selected = answer == a, onClick = { onAnswer(a) }, label = { Text(answerZh(a)) })
                }
            }
            ItemType.SELECT -> Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
                item.options.forEach { o ->
                    FilterChip(selected = answer == Answer.Choice(o), onClick = { onAnswer(Answer.Choice(o)) }, label = { Text(o) })
                }
            }
            ItemType.NUMBER -> OutlinedTextField(
                value = (answer as? Answer.Number)?.value?.toString() ?: "",
                onValueChange = { t -> t.toDoubleOrNull()?.let { onAnswer(Answer.Number(it)) } },
                label = { Text(item.unit ?: "数值") },
            )
            ItemType.TEXT, ItemType.PHOTO -> OutlinedTextField(
                value = (answer as? Answer.Text)?.value ?: "",
                onValueChange = { onAnswer(Answer.Text(it)) },
            )
        }
    }
}
