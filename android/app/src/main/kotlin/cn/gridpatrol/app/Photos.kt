package cn.gridpatrol.app

import android.content.Context
import android.net.Uri
import androidx.core.content.FileProvider
import java.io.File
import java.security.MessageDigest

/**
 * Photos stay on the phone as files named by the SHA-256 of their content; the core stores only
 * that hash, so a photo is never duplicated and its reference can be checked against the file.
 */
object Photos {
    private fun folder(context: Context) = File(context.filesDir, "photos").apply { mkdirs() }

    /** A file for the camera to write into, and the content URI to hand it. */
    fun newCapture(context: Context): Pair<File, Uri> {
        val file = File(folder(context), "capture-${System.nanoTime()}.jpg")
        return file to FileProvider.getUriForFile(context, "${context.packageName}.photos", file)
    }

    /** Names a captured file by its hash and returns the hash (the reference the core keeps). */
    fun keep(file: File): String {
        val digest = MessageDigest.getInstance("SHA-256")
        file.inputStream().use { input ->
            val buffer = ByteArray(64 * 1024)
            while (true) {
                val n = input.read(buffer)
                if (n < 0) break
                digest.update(buffer, 0, n)
            }
        }
        val hash = digest.digest().joinToString("") { "%02x".format(it) }
        file.renameTo(File(file.parentFile, "$hash.jpg"))
        return hash
    }
}
