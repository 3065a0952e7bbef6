package cn.gridpatrol.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import cn.gridpatrol.patrolkit.PatrolError
import cn.gridpatrol.patrolkit.PatrolKit
import kotlinx.coroutines.launch

/**
 * 登录: the server, the user's id and password; the first sync brings the user's scope. A first
 * password (from an import or a reset) is changed here before going on.
 */
@Composable
fun SignInScreen(kit: PatrolKit, onSignedIn: (String) -> Unit) {
    var server by remember { mutableStateOf("https://") }
    var user by remember { mutableStateOf("") }
    var password by remember { mutableStateOf("") }
    var error by remember { mutableStateOf<PatrolError?>(null) }
    var busy by remember { mutableStateOf(false) }
    var mustChange by remember { mutableStateOf(false) }
    var newPassword by remember { mutableStateOf("") }
    val scope = rememberCoroutineScope()
    suspend fun finish() {
        kit.syncNow().orReport { error = it }
        onSignedIn(user.trim())
    }
    Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("网格消防巡查 登录")
        OutlinedTextField(server, { server = it }, label = { Text("服务器地址") }, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(user, { user = it }, label = { Text("账号") }, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(
            password, { password = it }, label = { Text("密码") },
            visualTransformation = PasswordVisualTransformation(),
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password),
            modifier = Modifier.fillMaxWidth(),
        )
        if (mustChange) {
            Text("首次登录，请设置自己的新密码")
            OutlinedTextField(
                newPassword, { newPassword = it }, label = { Text("新密码") },
                visualTransformation = PasswordVisualTransformation(),
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password),
                modifier = Modifier.fillMaxWidth(),
            )
        }
        ErrorLine(error)
        Button(enabled = !busy, onClick = {
            busy = true
            scope.launch {
                if (mustChange) {
                    kit.changePassword(password, newPassword).orReport { error = it }?.let { finish() }
                } else {
                    kit.signIn(server.trim(), user.trim(), password).orReport { error = it }?.let { first ->
                        if (first) mustChange = true else finish()
                    }
                }
                busy = false
            }
        }) { Text(if (busy) "登录中…" else if (mustChange) "设置新密码" else "登录") }
    }
}
