package io.mizan

import java.io.File
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** A key provider written in Kotlin, as an app would over Android Keystore. */
class FixedKey(private val bytes: ByteArray) : KeyProvider {
    var calls = 0
    override fun keyMaterial(): ByteArray {
        calls += 1
        return bytes
    }
}

/** A key provider whose key store is unavailable (e.g. device locked). */
class LockedKeystore : KeyProvider {
    override fun keyMaterial(): ByteArray = throw KeyProviderException.Unavailable("keystore locked")
}

class EngineTest : DemoShopFixture() {
    private fun key(seed: Int = 7) = FixedKey(ByteArray(32) { (seed + it).toByte() })

    private fun open(provider: KeyProvider = key()): Engine =
        Engine.open(EngineConfig(dataDir = File(dir, "store").path, trustedPackKeys = listOf(trustedKey)), provider)

    private fun view(item: String, minutesAgo: Long, dwell: Double? = 30.0) =
        Event(itemId = item, kind = EventKind.VIEW, timestampMs = now - minutesAgo * 60_000, dwellSecs = dwell)

    /** Coffee & Tea (category 03) and Books (05) in the demo shop. */
    private val history = listOf(
        view("sku-03-01", 50), view("sku-03-05", 40), view("sku-05-01", 30),
        Event(itemId = "sku-03-05", kind = EventKind.PURCHASE, timestampMs = now - 20 * 60_000),
        view("sku-05-09", 10),
    )

    private fun consented(engine: Engine) = engine.apply {
        setConsent(personalisationPurpose(), true, "policy-1", false)
        loadCatalog(pack)
    }

    @Test
    fun opensAnEmptyStoreAndCallsTheKotlinKeyProvider() {
        val provider = key()
        open(provider).use { engine ->
            val report = engine.inspect()
            assertEquals(0L, report.events)
            assertFalse(report.personalised)
            assertEquals(null, report.pack)
        }
        assertTrue(provider.calls >= 1, "the Kotlin key provider was asked for key material")
    }

    @Test
    fun noEventIsStoredBeforeConsent() {
        open().use { engine ->
            engine.loadCatalog(pack)
            val outcome = engine.record(history)
            assertEquals(0, outcome.stored)
            assertEquals(history.size, outcome.droppedWithoutConsent)
            assertEquals(0L, engine.inspect().events)
            val cold = engine.recommend(RecommendRequest(nowMs = now))
            assertFalse(cold.personalised)
            assertEquals(ReasonKind.TRENDING, cold.items.first().reasons.first().kind, "without consent, what is popular now leads")
        }
    }

    @Test
    fun aStoreIsDestroyedWithoutOpeningItButNotWhileOpen() {
        val store = File(dir, "store")
        open().use { engine ->
            consented(engine)
            engine.record(history)
            assertFailsWith<MizanException.StoreLocked> { destroyStore(store.path) }
        }
        assertTrue(store.exists())
        destroyStore(store.path)
        assertFalse(store.exists(), "every file and the directory are gone")
    }

    @Test
    fun aBackfillPastRetentionSaysWhatItDropped() {
        open().use { engine ->
            consented(engine)
            val old = Event(itemId = "sku-03-05", kind = EventKind.PURCHASE, timestampMs = now - 400L * 86_400_000)
            val outcome = engine.record(listOf(old) + history)
            assertEquals(history.size, outcome.stored)
            assertEquals(1, outcome.droppedByRetention, "older than the default 365-day retention: not stored")
            assertEquals(history.size.toLong(), engine.inspect().events)
        }
    }

    @Test
    fun recordsAndRecommendsWithReasons() {
        open().use { engine ->
            consented(engine)
            assertEquals(history.size, engine.record(history).stored)
            val recs = engine.recommend(RecommendRequest(k = 10, nowMs = now))
            assertTrue(recs.personalised)
            assertEquals(10, recs.items.size)
            assertTrue(engine.inspect().trendShare < 0.01, "ten minutes after an event, what is popular now hardly counts")
            assertTrue(recs.items.all { it.reasons.isNotEmpty() })
            val seen = history.map { it.itemId }.toSet()
            assertTrue(recs.items.none { it.itemId in seen }, "seen items are excluded")
            val related = recs.items.flatMap { it.reasons }.filter { it.kind == ReasonKind.RELATED_TO_HISTORY }
            assertTrue(related.isNotEmpty() && related.all { it.sourceItemId in seen })
        }
    }

    @Test
    fun buyAgainListsWhatWasBoughtMostDueFirstAndSaysWhyItIsShort() {
        open().use { engine ->
            consented(engine)
            val day = 86_400_000L
            fun purchase(item: String, daysAgo: Long) = Event(itemId = item, kind = EventKind.PURCHASE, timestampMs = now - daysAgo * day)
            engine.record(listOf(purchase("sku-03-05", 22), purchase("sku-03-05", 15), purchase("sku-03-05", 8), purchase("sku-05-01", 1)))
            val again = engine.recommend(RecommendRequest(k = 5, nowMs = now, mode = RecommendMode.BUY_AGAIN))
            assertEquals(listOf("sku-03-05", "sku-05-01"), again.items.map { it.itemId })
            assertEquals(ReasonKind.BUY_AGAIN, again.items[0].reasons[0].kind)
            assertEquals("You usually buy this every 7 days — last bought 8 days ago", again.items[0].reasons[0].text)
            assertEquals(Shortfall(missing = 3, reason = ShortfallReason.FEWER_PURCHASES), again.shortfall)
            val mixed = engine.recommend(RecommendRequest(k = 5, nowMs = now))
            assertNull(mixed.shortfall)
            assertTrue(mixed.items.none { it.itemId == "sku-03-05" }, "an item the shop does not mark repeatable stays hidden outside buy-again")
            assertEquals("sku-03-05", engine.inspect().dueItems.first().name)
        }
    }

    @Test
    fun reopeningGivesTheSameRecommendations() {
        val request = RecommendRequest(k = 10, nowMs = now)
        val first = open().use { engine ->
            consented(engine)
            engine.record(history)
            engine.recommend(request).also { engine.shutdown() }
        }
        open().use { engine ->
            assertEquals(history.size.toLong(), engine.inspect().events)
            assertEquals(first, engine.recommend(request))
        }
    }

    @Test
    fun invalidEventsRaiseTypedErrorsAndStoreNothing() {
        open().use { engine ->
            consented(engine)
            val nan = view("sku-03-01", 1, dwell = Double.NaN)
            val err = assertFailsWith<MizanException.InvalidInput> { engine.record(listOf(view("sku-03-02", 2), nan)) }
            assertTrue(err.reason.contains("event 1"), err.reason)
            assertFailsWith<MizanException.InvalidInput> { engine.record(listOf(view("", 1))) }
            assertFailsWith<MizanException.InvalidInput> { engine.record(listOf(view("sku-03-01", -24 * 60))) }
            assertEquals(0L, engine.inspect().events, "a refused batch stores nothing")
            assertFailsWith<MizanException.UnknownItem> { engine.explain("no-such-item", null) }
            assertFailsWith<MizanException.InvalidInput> { engine.recommend(RecommendRequest(k = 0)) }
        }
    }

    @Test
    fun tamperedPackIsRefusedAndThePreviousPackKept() {
        open().use { engine ->
            val info = engine.loadCatalog(pack)
            assertNull(info.covers, "the demo pack holds its whole catalogue")
            assertNull(info.sourceItems)
            val tampered = pack.copyOf().also { it[it.size / 2] = (it[it.size / 2] + 1).toByte() }
            assertFailsWith<MizanException.PackRejected> { engine.loadCatalog(tampered) }
            assertFailsWith<MizanException.PackRejected> { engine.loadCatalog(pack.copyOf(pack.size - 1)) }
            assertEquals(288L, engine.inspect().catalogItems)
        }
    }

    @Test
    fun wrongKeyFromKotlinIsRefusedAndDestroysNothing() {
        open(key(1)).use { engine ->
            consented(engine)
            engine.record(history)
        }
        val wrong = assertFailsWith<MizanException.WrongKey> { open(key(2)) }
        assertTrue(!wrong.message.isNullOrBlank(), "a crash report gets a message")
        val locked = assertFailsWith<MizanException.KeyUnavailable> { open(LockedKeystore()) }
        assertTrue(locked.reason.contains("keystore locked"), "the key provider's own cause is kept: ${locked.reason}")
        open(key(1)).use { engine -> assertEquals(history.size.toLong(), engine.inspect().events) }
    }

    @Test
    fun notInterestedRemovesTheItem() {
        open().use { engine ->
            consented(engine)
            engine.record(history)
            val top = engine.recommend(RecommendRequest(nowMs = now)).items.first().itemId
            engine.feedback(Feedback(impressions = listOf(top), notInterested = listOf(top), timestampMs = now))
            assertTrue(engine.recommend(RecommendRequest(k = 50, nowMs = now)).items.none { it.itemId == top })
        }
    }

    @Test
    fun clicksTeachTheOnDeviceRanker() {
        open().use { engine ->
            consented(engine)
            engine.record(history)
            assertEquals(0L, engine.inspect().onlineImpressions)
            assertTrue(engine.inspect().rankerAdjustments.all { it.weight == 0.0 }, "a fresh ranker keeps the pack's weights")
            // Always opening the last of five shown items teaches it to weigh the mix differently.
            repeat(20) { round ->
                val shown = engine.recommend(RecommendRequest(k = 5, nowMs = now)).items.map { it.itemId }
                engine.feedback(Feedback(impressions = shown, clicks = listOf(shown.last()), timestampMs = now - 1_000L + round))
            }
            val report = engine.inspect()
            assertEquals(100L, report.onlineImpressions)
            assertEquals(setOf("neighbour", "transition", "network", "category", "popularity"), report.rankerAdjustments.map { it.name }.toSet())
            assertTrue(report.rankerAdjustments.any { it.weight != 0.0 }, "clicks reached the ranker: ${report.rankerAdjustments}")
        }
    }

    @Test
    fun exportHoldsConsentsAndEveryEvent() {
        open().use { engine ->
            consented(engine)
            engine.record(history)
            val json = engine.exportUserData()
            assertTrue(json.contains("\"format\":\"mizan-user-data/1\""))
            assertTrue(json.contains("policy-1"))
            history.forEach { assertTrue(json.contains(it.itemId), "export lists ${it.itemId}") }
        }
    }

    @Test
    fun eraseAllDeletesEverythingAndReopensEmpty() {
        open().use { engine ->
            consented(engine)
            engine.record(history)
            engine.eraseAll()
            assertFailsWith<MizanException.Closed> { engine.inspect() }
        }
        assertFalse(File(dir, "store").exists(), "the store directory is gone")
        open().use { engine ->
            assertEquals(0L, engine.inspect().events)
            assertTrue(engine.consents().isEmpty())
        }
    }

    @Test
    fun closeSavesAndUnlocksSoTheStoreReopensAtOnceAndIsIdempotent() {
        val engine = consented(open())
        engine.record(history)
        engine.close()
        engine.close()
        assertFailsWith<IllegalStateException> { engine.inspect() }
        open().use { again -> assertEquals(history.size.toLong(), again.inspect().events, "no StoreLocked, nothing lost") }
    }

    /** Opens, records and lets go of the engine without closing it. */
    private fun openAndForget() {
        consented(open()).record(history)
    }

    @Test
    fun anEngineDroppedWithoutCloseIsClosedWhenCollectedAndTheStoreReopens() {
        openAndForget()
        // The garbage collector's cleaner frees the handle, which closes the engine: synced, unlocked.
        // Bounded by attempts, not time: each one asks for a collection and waits for the cleaner.
        var reopened: Engine? = null
        for (attempt in 1..600) {
            System.gc()
            reopened = try { open() } catch (e: MizanException.StoreLocked) { Thread.sleep(100); null }
            if (reopened != null) break
        }
        val engine = assertNotNull(reopened, "the store stayed locked after the handle was collected")
        engine.use { assertEquals(history.size.toLong(), it.inspect().events, "what the dropped engine recorded is there") }
    }

    @Test
    fun callsAfterShutdownAndSecondOpensAreRefused() {
        open().use { engine ->
            val locked = assertFailsWith<MizanException.StoreLocked> { open() }
            engine.shutdown()
            val closed = assertFailsWith<MizanException.Closed> { engine.record(history) }
            assertFailsWith<MizanException.Closed> { engine.shutdown() }
            for (e in listOf(locked, closed)) assertTrue(!e.message.isNullOrBlank(), "empty message from ${e::class.simpleName}")
        }
        open().use { engine -> assertEquals(0L, engine.inspect().events) }
    }

    @Test
    fun forgetRemovesMatchingEventsDurably() {
        open().use { engine ->
            consented(engine)
            engine.record(history)
            assertEquals(2L, engine.forget(ForgetRequest(itemIds = listOf("sku-03-05"))))
            assertEquals(2L, engine.forget(ForgetRequest(kinds = listOf(EventKind.VIEW), fromMs = now - 35 * 60_000)))
            assertFailsWith<MizanException.InvalidInput> { engine.forget(ForgetRequest()) }
            engine.shutdown()
        }
        open().use { engine ->
            assertEquals(1L, engine.inspect().events)
            assertFalse(engine.exportUserData().contains("sku-03-05"))
        }
    }

    @Test
    fun keyRotationFromKotlinKeepsEverything() {
        open(key(1)).use { engine ->
            consented(engine)
            engine.record(history)
            engine.rotateKey(key(9))
        }
        assertFailsWith<MizanException.WrongKey> { open(key(1)) }
        open(key(9)).use { engine -> assertEquals(history.size.toLong(), engine.inspect().events) }
    }

    @Test
    fun groupCommitAcknowledgesAndFlushes() {
        val config = EngineConfig(dataDir = File(dir, "gc").path, trustedPackKeys = listOf(trustedKey), groupCommitMs = 60_000L)
        Engine.open(config, key()).use { engine ->
            consented(engine)
            val outcome = engine.record(history)
            assertEquals(history.size, outcome.stored)
            assertFalse(outcome.durable, "a small batch waits for its group")
            engine.flush()
            assertTrue(engine.inspect().detailsJson.contains("group_commit"))
        }
    }

    @Test
    fun bestTimeAndCategoryNotInterestedFromKotlin() {
        open().use { engine ->
            consented(engine)
            val opens = (1..10).map { d -> Event(itemId = "", kind = EventKind.NOTIFICATION_OPEN, timestampMs = now - d * 86_400_000L) }
            engine.record(opens)
            val anyHour = BestTimeRequest(nowMs = now, quietStartHour = 0, quietEndHour = 0)
            val t = engine.bestTime(anyHour)
            assertFalse(t.fallback)
            assertTrue(t.confidence > 0f && t.atMs > now)
            engine.feedback(Feedback(notInterestedCategories = listOf("Books"), reason = NotInterestedReason.NOT_RELEVANT, timestampMs = now))
            val recs = engine.recommend(RecommendRequest(k = 50, nowMs = now, exploration = 0f))
            assertTrue(recs.items.none { it.itemId.startsWith("sku-05-") }, "the Books category is hidden")
            assertTrue(engine.exportUserData().contains("not_relevant"))
        }
    }

    @Test
    fun undeclaredPurposesAreRefusedAndDeclaredOnesAccepted() {
        val config = EngineConfig(dataDir = File(dir, "p").path, trustedPackKeys = listOf(trustedKey), declaredPurposes = listOf("newsletter"))
        Engine.open(config, key()).use { engine ->
            engine.setConsent("newsletter", true, "policy-1", false)
            assertFailsWith<MizanException.InvalidInput> { engine.setConsent("tracking", true, "policy-1", false) }
            assertEquals(listOf("newsletter"), engine.consents().map { it.purpose })
            for (builtIn in listOf(searchTermsPurpose(), sensitiveProfilingPurpose())) engine.setConsent(builtIn, false, "policy-1", false)
            assertEquals(setOf("newsletter", "search_terms", "sensitive_profiling"), engine.consents().map { it.purpose }.toSet())
        }
    }

    @Test
    fun logLinesReachAKotlinLoggerAtItsLevel() {
        val lines = java.util.Collections.synchronizedList(mutableListOf<Pair<LogLevel, String>>())
        setLogger(object : Logger {
            override fun log(level: LogLevel, target: String, message: String) {
                lines.add(level to "$target: $message")
            }
        }, LogLevel.INFO)
        open().use { engine -> engine.loadCatalog(pack) }
        assertTrue(lines.any { it.second.contains("store opened") }, lines.toString())
        assertTrue(lines.any { it.second.contains("loaded pack version") }, lines.toString())
        assertTrue(lines.none { it.first == LogLevel.DEBUG || it.first == LogLevel.TRACE }, "finer lines are filtered in Rust")
    }

    @Test
    fun theDebugSnapshotIsRefusedUnlessEnabledAndExplainsTheList() {
        open().use { engine ->
            consented(engine)
            engine.record(history)
            assertFailsWith<MizanException.DebugDisabled> { engine.debugSnapshot(DebugOptions()) }
        }
        val config = EngineConfig(dataDir = File(dir, "store").path, trustedPackKeys = listOf(trustedKey), debugApi = true)
        Engine.open(config, key()).use { engine ->
            val top = engine.recommend(RecommendRequest(k = 5, nowMs = now)).items.first()
            val json = engine.debugSnapshot(DebugOptions(topN = 5, itemIds = listOf("sku-03-05", "no-such-item"), nowMs = now))
            // What a developer pulls from the device (adb pull) and renders with `mizan inspect`.
            val file = File(dir, "mizan-debug.json").apply { writeText(json) }
            assertTrue(file.length() > 1000, "a snapshot with content")
            assertTrue(json.contains("\"format\": \"mizan-debug-snapshot\""), json.take(200))
            assertTrue(json.contains("\"item_id\": \"${top.itemId}\""), "the list's top item is explained")
            assertTrue(json.contains("\"status\": \"seen\""), "a bought item is not listed because it was seen")
            assertTrue(json.contains("\"status\": \"unknown\""), "an unknown id is reported as unknown")
            assertTrue(json.contains("\"raw_events\": null"), "no raw events unless asked for")
            assertFailsWith<MizanException.InvalidInput> { engine.debugSnapshot(DebugOptions(topN = 0)) }
        }
    }
}
