package io.mizan

import java.io.File
import java.util.concurrent.Executors
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** The coroutine wrapper: calls run on the given dispatcher, give what the blocking calls give, and may overlap. */
class SuspendingEngineTest : DemoShopFixture() {
    private fun config() = EngineConfig(dataDir = File(dir, "store").path, trustedPackKeys = listOf(trustedKey))

    /** A key provider that notes the thread it is called on. */
    private class ThreadNotingKey : KeyProvider {
        @Volatile var thread: String? = null
        override fun keyMaterial(): ByteArray {
            thread = Thread.currentThread().name
            return ByteArray(32) { (5 + it).toByte() }
        }
    }

    @Test
    fun callsRunOnTheDispatcherAndGiveWhatTheBlockingCallsGive() {
        val executor = Executors.newFixedThreadPool(2) { Thread(it, "mizan-io") }
        val dispatcher = executor.asCoroutineDispatcher()
        val key = ThreadNotingKey()
        try {
            runBlocking {
                SuspendingEngine.open(config(), key, dispatcher).use { engine ->
                    assertEquals("mizan-io", key.thread, "the store opened off the caller's thread")
                    engine.setConsent(personalisationPurpose(), true, "policy-1", false)
                    engine.loadCatalog(pack)
                    val events = listOf("sku-03-01", "sku-03-02", "sku-05-01").mapIndexed { i, id ->
                        Event(itemId = id, kind = EventKind.VIEW, timestampMs = now - (3 - i) * 60_000L, dwellSecs = 30.0)
                    }
                    assertEquals(3, engine.record(events).stored)
                    val request = RecommendRequest(k = 10, nowMs = now, seed = 1L)
                    assertEquals(engine.engine.recommend(request), engine.recommend(request))
                    assertEquals("sku-03-04", engine.explain("sku-03-04", now).itemId)
                    assertEquals(3L, engine.inspect().events)
                    assertTrue(engine.exportUserData().contains("sku-03-02"))
                    assertFailsWith<MizanException.UnknownItem> { engine.explain("no-such-item") }
                    engine.shutdown()
                    assertFailsWith<MizanException.Closed> { engine.recommend(request) }
                }
            }
        } finally {
            executor.shutdown()
        }
    }

    @Test
    fun coroutinesMayRecordAtOnce() {
        runBlocking {
            SuspendingEngine.open(config(), FixedKey(ByteArray(32) { (9 + it).toByte() })).use { engine ->
                engine.setConsent(personalisationPurpose(), true, "policy-1", false)
                val outcomes = (0 until 8).map { c ->
                    async {
                        engine.record((0 until 20).map { e -> Event(itemId = "sku-0${c + 1}-01", kind = EventKind.VIEW, timestampMs = now - 600_000L + c * 100 + e) })
                    }
                }.awaitAll()
                assertEquals(160, outcomes.sumOf { it.stored })
                assertEquals(160L, engine.inspect().events)
            }
        }
    }
}
