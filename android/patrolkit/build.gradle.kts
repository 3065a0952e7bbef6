// Pure Kotlin (no android.*): the generated bindings plus coroutine wrappers, so the same code
// runs on the JVM in tests and on the phone.
plugins {
    id("org.jetbrains.kotlin.jvm")
}

kotlin {
    jvmToolchain(17)
    sourceSets["main"].kotlin.srcDir("../../target/bindings/kotlin")
}

dependencies {
    implementation("net.java.dev.jna:jna:5.14.0")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.9.0")
}

tasks.named("compileKotlin") {
    dependsOn(rootProject.tasks.named("generateBindings"))
}
