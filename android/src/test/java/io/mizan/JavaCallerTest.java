package io.mizan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bindings from Java, which has no unsigned types and no default arguments: every record is
 * built with its public constructor, counts are int and sizes long, and a negative count is an
 * InvalidInput error, not a wrapped-around huge number.
 */
class JavaCallerTest extends DemoShopFixture {
    private Engine open(int retentionDays) throws MizanException {
        EngineConfig config = new EngineConfig(new File(getDir(), "store").getPath(), List.of(getTrustedKey()), 300_000L, null,
            retentionDays, 64L << 20, null, List.of(), false);
        byte[] key = new byte[32];
        return Engine.Companion.open(config, () -> key);
    }

    private static RecommendRequest request(int k) {
        return new RecommendRequest(k, null, false, 0.2f, null, 0.1f, 0f, 7L, null, null, null);
    }

    @Test
    void recordsAreBuiltAndReadWithPlainIntsAndLongs() throws Exception {
        try (Engine engine = open(365)) {
            engine.setConsent(Mizan_ffiKt.personalisationPurpose(), true, "policy-1", false);
            engine.loadCatalog(getPack());
            Event view = new Event("sku-01-01", EventKind.VIEW, getNow() - 60_000L, 20.0, null, null);
            RecordOutcome outcome = engine.record(List.of(view));
            int stored = outcome.getStored();
            assertEquals(1, stored);
            long events = engine.inspect().getEvents();
            assertEquals(1L, events);
            Recommendations list = engine.recommend(request(5));
            assertEquals(5, list.getItems().size());
            assertEquals(0, list.getUnknownCandidates());
            assertTrue(request(5).getK() == 5 && request(5).getSeed() == 7L);
        }
    }

    @Test
    void aNegativeCountOrSizeIsRefused() throws Exception {
        try (Engine engine = open(365)) {
            engine.loadCatalog(getPack());
            assertThrows(MizanException.InvalidInput.class, () -> engine.recommend(request(-1)));
            BestTimeRequest horizon = new BestTimeRequest(getNow(), 0, 22, 8, -5);
            assertThrows(MizanException.InvalidInput.class, () -> engine.bestTime(horizon));
        }
        assertThrows(MizanException.InvalidInput.class, () -> open(-1));
    }
}
