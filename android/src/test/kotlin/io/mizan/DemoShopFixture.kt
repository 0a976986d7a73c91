package io.mizan

import java.io.File
import java.nio.file.Files
import kotlin.test.AfterTest
import kotlin.test.BeforeTest

/**
 * What every test class of the bindings starts from: the demo shop's signed pack and its key (from
 * `-Dmizan.fixtures`), the moment the class was made, and a fresh temporary directory per test.
 */
abstract class DemoShopFixture {
    protected val fixtures = File(System.getProperty("mizan.fixtures") ?: error("-Dmizan.fixtures not set"))
    protected val pack = File(fixtures, "demo.pack").readBytes()
    protected val trustedKey = File(fixtures, "demo.pub").readBytes()
    protected val now = System.currentTimeMillis()
    protected lateinit var dir: File

    @BeforeTest
    fun makeDirectory() {
        dir = Files.createTempDirectory("mizan-kotlin").toFile()
    }

    @AfterTest
    fun removeDirectory() {
        dir.deleteRecursively()
    }
}
