package cn.gridpatrol.app.ui

import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
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
import cn.gridpatrol.ffi.Severity
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch

/**
 * 隐患上报: a hazard found at a place, with photos taken by the camera. A draft in the core from
 * the start ([draftId] resumes one from 续填): what is typed and photographed is saved as it is
 * given, one save at a time in order, each with the screen as it is then. The location is asked
 * for in the background and never waited on.
 */
@Composable
fun ReportHazardScreen(kit: PatrolKit, user: String, placeId: String, draftId: String?, onDone: () -> Unit) {
    val context = LocalContext.current
    // Kept across rotation and the camera pushing the app out: never a second, empty draft.
    var draft by rememberSaveable { mutableStateOf(draftId) }
    var category by rememberSaveable { mutableStateOf("") }
    var description by rememberSaveable { mutableStateOf("") }
    var severity by remember { mutableStateOf(Severity.GENERAL) }
    val photos = remember { mutableStateListOf<String>() }
    var capture by rememberSaveable { mutableStateOf<String?>(null) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    val saves = rememberSaveQueue()

    LaunchedEffect(placeId, draftId) {
        val resume = draft
        if (resume != null) {
            kit.hazardDraft(user, resume).orReport { error = it }?.let { h ->
                category = h.category
                description = h.description
                severity = h.severity
                photos.clear()
                photos.addAll(h.photos)
            }
        } else {
            draft = kit.startHazardDraft(user, placeId, "", Severity.GENERAL, null).orReport { error = it }
        }
        // A fix if one comes within seconds, kept with what is typed by then.
        val id = draft ?: return@LaunchedEffect
        Location.currentFix(context)?.let { fix ->
            saves.then { kit.saveHazardDraft(user, id, category.trim(), severity, description, photos.toList(), fix) }
        }
    }
    fun save() {
        val id = draft ?: return
        saves.then {
            kit.saveHazardDraft(user, id, category.trim(), severity, description, photos.toList()).orReport { error = it }
        }
    }
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val path = capture
        capture = null
        if (saved && path != null) {
            scope.launch {
                kit.addPhotoFile(path).orReport { error = it }?.let { photos += it; save() }
            }
        }
    }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(10.dp)) {
        OutlinedTextField(category, { category = it; save() }, label = { Text("隐患类别（如 wiring、extinguisher）") })
        OutlinedTextField(description, { description = it; save() }, label = { Text("隐患描述") }, minLines = 3)
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            FilterChip(severity == Severity.GENERAL, { severity = Severity.GENERAL; save() }, label = { Text("一般隐患") })
            FilterChip(severity == Severity.MAJOR, { severity = Severity.MAJOR; save() }, label = { Text("重大隐患") })
        }
        OutlinedButton(onClick = {
            val (file, uri) = Photos.newCapture(context)
            capture = file.path
            camera.launch(uri)
        }) { Text("拍照（已拍 ${photos.size} 张）") }
        ErrorLine(error)
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(onClick = {
                val id = draft ?: return@Button
                saves.then {
                    kit.saveHazardDraft(user, id, category.trim(), severity, description, photos.toList())
                        .orReport { error = it } ?: return@then
                    kit.submitDraft(user, id).orReport { error = it }?.let {
                        SyncWorker.syncSoon(context)
                        ReminderWorker.refresh(context)
                        onDone()
                    }
                }
            }) { Text("上报") }
            DiscardButton("放弃这条隐患上报？", "已填写的描述和照片将被删除，无法恢复。") {
                    val id = draft ?: return@DiscardButton
                    saves.then { kit.discardDraft(user, id).orReport { error = it }?.let { onDone() } }
                }
        }
    }
}
