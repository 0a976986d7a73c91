package io.mizan

import java.io.File
import java.util.Collections
import kotlin.concurrent.thread
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** Limits, concurrency and the calls the other suite does not reach, from Kotlin. */
class EngineLimitsTest : DemoShopFixture() {
    private fun open(): Engine =
        Engine.open(EngineConfig(dataDir = File(dir, "store").path, trustedPackKeys = listOf(trustedKey)), FixedKey(ByteArray(32) { (3 + it).toByte() }))

    private fun ready(engine: Engine) = engine.apply {
        setConsent(personalisationPurpose(), true, "policy-1", false)
        loadCatalog(pack)
    }

    private fun view(item: String, at: Long) = Event(itemId = item, kind = EventKind.VIEW, timestampMs = at, dwellSecs = 20.0)

    @Test
    fun purposeConstantsAreTheEnginesOwn() {
        assertEquals(personalisationPurpose(), Purposes.PERSONALISATION)
        assertEquals(searchTermsPurpose(), Purposes.SEARCH_TERMS)
        assertEquals(sensitiveProfilingPurpose(), Purposes.SENSITIVE_PROFILING)
        open().use { engine ->
            for (purpose in listOf(Purposes.PERSONALISATION, Purposes.SEARCH_TERMS, Purposes.SENSITIVE_PROFILING)) {
                engine.setConsent(purpose, true, "policy-1", false)
            }
            assertTrue(engine.consents().all { it.granted })
        }
    }

    @Test
    fun aStoreDirectoryThatCannotBeCreatedIsAStorageErrorNamingNoPath() {
        val blocker = File(dir, "a-file").apply { writeText("not a directory") }
        val config = EngineConfig(dataDir = File(blocker, "store").path, trustedPackKeys = listOf(trustedKey))
        val error = assertFailsWith<MizanException.Storage> { Engine.open(config, FixedKey(ByteArray(32) { 1 })) }
        assertTrue(!error.message.isNullOrBlank())
        assertTrue(!error.message!!.contains(dir.path), "no path (personal data) in the message: ${error.message}")
    }

    @Test
    fun eightThreadsRecordRecommendAndInspectAtOnce() {
        open().use { engine ->
            ready(engine)
            val failures = Collections.synchronizedList(mutableListOf<Throwable>())
            val threads = (0 until 8).map { t ->
                thread {
                    try {
                        repeat(25) { b ->
                            val events = (0 until 10).map { e -> view("sku-0${t % 8 + 1}-0${e % 9 + 1}", now - 3_600_000L + (t * 1_000 + b * 10 + e)) }
                            assertEquals(10, engine.record(events).stored)
                            assertTrue(engine.recommend(RecommendRequest(k = 5, nowMs = now)).items.isNotEmpty())
                            engine.inspect()
                        }
                    } catch (e: Throwable) {
                        failures.add(e)
                    }
                }
            }
            threads.forEach { it.join(120_000) }
            assertTrue(threads.none { it.isAlive }, "every thread finished")
            assertEquals(emptyList<Throwable>(), failures.toList())
            assertEquals(8L * 25L * 10L, engine.inspect().events, "every acknowledged event is there once")
        }
    }

    @Test
    fun aBatchOfTenThousandIsTakenAndOneMoreIsRefusedWhole() {
        open().use { engine ->
            ready(engine)
            val batch = (0 until 10_000).map { view("sku-02-0${it % 9 + 1}", now - 7_200_000L + it) }
            assertEquals(10_000, engine.record(batch).stored)
            val tooMany = batch + view("sku-02-01", now - 1_000)
            assertFailsWith<MizanException.InvalidInput> { engine.record(tooMany) }
            assertEquals(10_000L, engine.inspect().events, "the refused batch stored nothing")
        }
    }

    @Test
    fun rankingBeforeAnyPackSaysSo() {
        open().use { engine ->
            engine.setConsent(personalisationPurpose(), true, "policy-1", false)
            assertFailsWith<MizanException.NoCatalog> { engine.recommend(RecommendRequest(k = 5)) }
            assertFailsWith<MizanException.NoCatalog> { engine.explain("sku-01-01", null) }
            assertEquals(1, engine.record(listOf(view("sku-01-01", now - 1_000))).stored, "events are kept before a pack arrives")
        }
    }

    @Test
    fun theAppsCandidatesAreRerankedUnknownOnesCountedAndAShortListSaysWhy() {
        open().use { engine ->
            ready(engine)
            engine.record(listOf(view("sku-03-01", now - 60_000)))
            val recs = engine.recommend(RecommendRequest(k = 5, nowMs = now, candidates = listOf("sku-03-02", "sku-05-04", "not-in-the-pack")))
            assertEquals(1, recs.unknownCandidates)
            assertEquals(setOf("sku-03-02", "sku-05-04"), recs.items.map { it.itemId }.toSet())
            assertEquals(Shortfall(missing = 3, reason = ShortfallReason.FEWER_ELIGIBLE_ITEMS), recs.shortfall)
        }
    }

    @Test
    fun outOfRangeRequestsAreRefusedByName() {
        open().use { engine ->
            ready(engine)
            for (request in listOf(
                RecommendRequest(k = 1_001),
                RecommendRequest(diversity = 1.5f),
                RecommendRequest(exploration = 0.6f),
                RecommendRequest(novelty = Float.NaN),
            )) {
                val err = assertFailsWith<MizanException.InvalidInput> { engine.recommend(request) }
                assertTrue(err.reason.isNotBlank(), "a reason a crash report can use")
            }
        }
    }

    @Test
    fun withdrawingConsentWithErasureEmptiesTheLogAndKeepsTheHistoryOfDecisions() {
        open().use { engine ->
            ready(engine)
            engine.record(listOf(view("sku-04-01", now - 60_000), view("sku-04-02", now - 30_000)))
            engine.setConsent(personalisationPurpose(), false, "policy-2", true)
            assertEquals(0L, engine.inspect().events)
            assertTrue(!engine.inspect().personalised)
            val decisions = engine.consents()
            val latest = decisions.last { it.purpose == personalisationPurpose() }
            assertEquals(false to "policy-2", latest.granted to latest.policyVersion)
            assertEquals(0, engine.record(listOf(view("sku-04-03", now - 10_000))).stored, "nothing is stored without consent")
            assertTrue(engine.recommend(RecommendRequest(k = 3, nowMs = now)).items.isNotEmpty(), "lists still come, unpersonalised")
        }
    }

    @Test
    fun anyItemCanBeExplained() {
        open().use { engine ->
            ready(engine)
            engine.record(listOf(view("sku-05-01", now - 60_000)))
            val why = engine.explain("sku-05-02", now)
            assertEquals("sku-05-02", why.itemId)
            assertTrue(why.reasons.isNotEmpty() && why.reasons.all { it.text.isNotBlank() })
        }
    }
}
