plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

android {
    namespace = "cn.gridpatrol.app"
    compileSdk = 35
    defaultConfig {
        applicationId = "cn.gridpatrol.app"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }
    buildFeatures { compose = true }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    sourceSets["main"].jniLibs.srcDir(layout.buildDirectory.dir("rustJniLibs"))
}

// The Rust core for each phone ABI, with cargo-ndk (`cargo install cargo-ndk`, the targets from
// `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`, and
// ANDROID_NDK_HOME set; see README "Building the apps").
val cargoNdk by tasks.registering(Exec::class) {
    workingDir = rootDir.parentFile
    val out = layout.buildDirectory.dir("rustJniLibs").get().asFile
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "-o", out.path,
        // The phone profile (root Cargo.toml): whole-program optimised for size, stripped.
        "build", "--profile", "phone", "--locked", "-p", "gridpatrol-ffi",
    )
}
tasks.named("preBuild") { dependsOn(cargoNdk) }

dependencies {
    // On the phone JNA comes as an AAR with its native part; patrolkit's JVM jar is left out.
    implementation(project(":patrolkit")) { exclude(group = "net.java.dev.jna") }
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation(platform("androidx.compose:compose-bom:2024.12.01"))
    implementation("androidx.compose.material3:material3")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.navigation:navigation-compose:2.8.5")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.8.7")
    implementation("androidx.work:work-runtime-ktx:2.10.0")
    implementation("androidx.core:core-ktx:1.15.0")
    // Fused Location where Google Play services exist; Location.kt falls back to the system's
    // LocationManager where they do not.
    implementation("com.google.android.gms:play-services-location:21.3.0")
}
