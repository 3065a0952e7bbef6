plugins {
    id("com.android.application") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.1.0" apply false
    id("org.jetbrains.kotlin.jvm") version "2.1.0" apply false
    id("org.jetbrains.kotlin.plugin.compose") version "2.1.0" apply false
}

// The Kotlin bindings are generated from the Rust library, never edited by hand.
val generateBindings by tasks.registering(Exec::class) {
    description = "Generates the uniffi Kotlin bindings into ../target/bindings/kotlin"
    workingDir = rootDir.parentFile
    commandLine("bash", "bindings/generate.sh")
}
