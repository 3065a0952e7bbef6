package cn.gridpatrol.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
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
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.Answer
import cn.gridpatrol.ffi.ChecklistItem
import cn.gridpatrol.ffi.ItemAnswer
import cn.gridpatrol.ffi.ItemType
import cn.gridpatrol.ffi.PatrolDraft
import cn.gridpatrol.ffi.PatrolForm
import cn.gridpatrol.ffi.answerZh
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch

/**
 * 巡查表: the place's checklist, items that failed last time and plan focus marked; failed
 * items are raised as hazards on submit. The visit is stored in one transaction on submit;
 * answers before that live only on this screen (drafts that survive the app being killed are
 * not built yet).
 */
@Composable
fun ChecklistScreen(kit: PatrolKit, user: String, placeId: String, onReportOther: () -> Unit, onDone: () -> Unit) {
    val startedAt = remember { System.currentTimeMillis() }
    var form by remember { mutableStateOf<PatrolForm?>(null) }
    val answers = remember { mutableStateMapOf<String, Answer>() }
    val raise = remember { mutableStateMapOf<String, Boolean>() }
    var note by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    val context = LocalContext.current
    LaunchedEffect(placeId) { kit.patrolForm(user, placeId).orReport { error = it }?.let { form = it } }
    val f = form ?: return ErrorLine(error)
    LazyColumn(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        item { Text("${f.placeName} · ${f.templateName}", style = MaterialTheme.typography.titleMedium) }
        items(f.items, key = { it.key }) { item ->
            ItemRow(item, answers[item.key]) { a ->
                answers[item.key] = a
                // An item that asks for a photo is not raised on submit without one: the core
                // refuses it. It comes back as a proposal, to report with its photo.
                raise[item.key] = a == Answer.Fail && !item.photoOnFail
            }
        }
        item {
            OutlinedTextField(note, { note = it }, label = { Text("备注") })
            ErrorLine(error)
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = {
                    scope.launch {
                        val draft = PatrolDraft(
                            placeId = placeId, startedAtMs = startedAt,
                            latitude = null, longitude = null, accuracyM = null,
                            answers = answers.map { (k, v) -> ItemAnswer(k, v) },
                            raiseItems = raise.filterValues { it }.keys.toList(),
                            note = note,
                        )
                        kit.recordPatrol(user, draft).orReport { error = it }?.let {
                            SyncWorker.syncSoon(context)
                            onDone()
                        }
                    }
                }) { Text("提交巡查") }
                TextButton(onClick = onReportOther) { Text("上报其他隐患") }
            }
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
