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
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import cn.gridpatrol.app.Photos
import cn.gridpatrol.app.SyncWorker
import cn.gridpatrol.ffi.NewHazard
import cn.gridpatrol.ffi.Severity
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import java.io.File
import kotlinx.coroutines.launch

/** 隐患上报: a hazard found at a place, with photos taken by the camera (kept by their hash). */
@Composable
fun ReportHazardScreen(kit: PatrolKit, user: String, placeId: String, onDone: () -> Unit) {
    val context = LocalContext.current
    var category by remember { mutableStateOf("") }
    var description by remember { mutableStateOf("") }
    var severity by remember { mutableStateOf(Severity.GENERAL) }
    val photos = remember { mutableStateListOf<String>() }
    var capture by remember { mutableStateOf<File?>(null) }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    val scope = rememberCoroutineScope()
    val camera = rememberLauncherForActivityResult(ActivityResultContracts.TakePicture()) { saved ->
        val file = capture
        if (saved && file != null) photos += Photos.keep(file)
    }
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(10.dp)) {
        OutlinedTextField(category, { category = it }, label = { Text("隐患类别（如 wiring、extinguisher）") })
        OutlinedTextField(description, { description = it }, label = { Text("隐患描述") }, minLines = 3)
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            FilterChip(severity == Severity.GENERAL, { severity = Severity.GENERAL }, label = { Text("一般隐患") })
            FilterChip(severity == Severity.MAJOR, { severity = Severity.MAJOR }, label = { Text("重大隐患") })
        }
        OutlinedButton(onClick = {
            val (file, uri) = Photos.newCapture(context)
            capture = file
            camera.launch(uri)
        }) { Text("拍照（已拍 ${photos.size} 张）") }
        ErrorLine(error)
        Button(onClick = {
            scope.launch {
                val hazard = NewHazard(placeId, category.trim(), severity, description, photos.toList())
                kit.reportHazard(user, hazard).orReport { error = it }?.let {
                    SyncWorker.syncSoon(context)
                    onDone()
                }
            }
        }) { Text("上报") }
    }
}
