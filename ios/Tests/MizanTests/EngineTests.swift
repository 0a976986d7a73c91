// XCTest tests of the Swift bindings, mirroring the Kotlin ones (android/src/test/kotlin).
// Run on a Mac with `ios/scripts/test-swift.sh` (it builds the XCFramework with its macOS slice and
// writes the demo shop's pack for MIZAN_FIXTURES). On Linux, ios/scripts/check-swift.sh parses this
// file and checks every engine call and record initialiser it makes against the generated bindings.
import Foundation
import XCTest
@testable import Mizan

/// Fixed key material: the same bytes every time, as a Keychain-backed provider would give.
final class FixedKey: KeyProvider {
    private let bytes: Data
    init(_ seed: UInt8) { bytes = Data((0..<32).map { seed &+ UInt8($0) }) }
    func keyMaterial() throws -> Data { bytes }
}

/// A key provider that fails as an invalidated Keychain item does.
final class BrokenKey: KeyProvider {
    func keyMaterial() throws -> Data { throw KeyProviderError.Unavailable(reason: "keychain item invalidated") }
}

final class EngineTests: XCTestCase {
    private var dir: URL!
    private var pack = Data()
    private var trustedKey = Data()
    private let now = Int64(Date().timeIntervalSince1970 * 1000)

    override func setUpWithError() throws {
        guard let fixtures = ProcessInfo.processInfo.environment["MIZAN_FIXTURES"] else {
            throw XCTSkip("MIZAN_FIXTURES is not set: run ios/scripts/test-swift.sh")
        }
        pack = try Data(contentsOf: URL(fileURLWithPath: fixtures).appendingPathComponent("demo.pack"))
        trustedKey = try Data(contentsOf: URL(fileURLWithPath: fixtures).appendingPathComponent("demo.pub"))
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func open(_ key: KeyProvider = FixedKey(3)) throws -> Engine {
        let config = EngineConfig(dataDir: dir.appendingPathComponent("store").path, trustedPackKeys: [trustedKey])
        return try Engine.open(config: config, keyProvider: key)
    }

    private func ready(_ engine: Engine) throws {
        try engine.setConsent(purpose: personalisationPurpose(), granted: true, policyVersion: "policy-1", eraseOnWithdraw: false)
        _ = try engine.loadCatalog(signedPack: pack)
    }

    private var history: [Event] {
        ["sku-01-01", "sku-01-02", "sku-01-03"].enumerated().map { i, id in
            Event(itemId: id, kind: .view, timestampMs: now - 3_600_000 + Int64(i) * 60_000, dwellSecs: 20)
        }
    }

    func testNothingIsStoredWithoutConsent() throws {
        let engine = try open()
        _ = try engine.loadCatalog(signedPack: pack)
        let outcome = try engine.record(events: history)
        XCTAssertEqual(outcome.stored, 0)
        XCTAssertEqual(outcome.droppedWithoutConsent, Int32(history.count))
        XCTAssertEqual(try engine.inspect().events, 0)
    }

    func testRecordedEventsShapeExplainedRecommendations() throws {
        let engine = try open()
        try ready(engine)
        XCTAssertEqual(try engine.record(events: history).stored, Int32(history.count))
        let list = try engine.recommend(request: RecommendRequest(k: 10, nowMs: now))
        XCTAssertTrue(list.personalised)
        XCTAssertEqual(list.items.count, 10)
        XCTAssertTrue(list.items.allSatisfy { !$0.reasons.isEmpty }, "every item says why")
        let why = try engine.explain(itemId: list.items[0].itemId, nowMs: now)
        XCTAssertFalse(why.reasons.isEmpty)
    }

    func testNotInterestedHidesAnItem() throws {
        let engine = try open()
        try ready(engine)
        _ = try engine.record(events: history)
        let request = RecommendRequest(k: 10, nowMs: now, exploration: 0)
        let top = try engine.recommend(request: request).items[0].itemId
        try engine.feedback(feedback: Feedback(notInterested: [top], reason: .notRelevant, timestampMs: now))
        XCTAssertFalse(try engine.recommend(request: request).items.contains { $0.itemId == top })
    }

    func testForgetExportAndEraseHonourTheUsersRights() throws {
        let engine = try open()
        try ready(engine)
        _ = try engine.record(events: history)
        XCTAssertEqual(try engine.forget(request: ForgetRequest(itemIds: ["sku-01-01"])), 1)
        let export = try engine.exportUserData()
        XCTAssertFalse(export.contains("sku-01-01"))
        XCTAssertTrue(export.contains("sku-01-02"))
        try engine.eraseAll()
        XCTAssertThrowsError(try engine.inspect()) { guard case MizanError.Closed = $0 else { return XCTFail("\($0)") } }
        XCTAssertEqual(try open().inspect().events, 0)
    }

    func testAWrongKeyAndASecondOpenAreRefusedAndShutdownUnlocks() throws {
        let engine = try open()
        try ready(engine)
        XCTAssertThrowsError(try open()) { guard case MizanError.StoreLocked = $0 else { return XCTFail("\($0)") } }
        try engine.shutdown()
        XCTAssertThrowsError(try open(FixedKey(9))) { guard case MizanError.WrongKey = $0 else { return XCTFail("\($0)") } }
        XCTAssertThrowsError(try open(BrokenKey())) { error in
            guard case MizanError.KeyUnavailable(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("invalidated"), "the provider's own cause is kept")
        }
        XCTAssertNoThrow(try open())
    }

    func testNegativeCountsAndOutOfRangeRequestsAreInvalidInput() throws {
        let engine = try open()
        try ready(engine)
        for k: Int32 in [-1, 0, 1_001] {
            XCTAssertThrowsError(try engine.recommend(request: RecommendRequest(k: k))) {
                guard case MizanError.InvalidInput = $0 else { return XCTFail("k = \(k): \($0)") }
            }
        }
    }

    func testBuyAgainListsOnlyPurchasesAndSaysWhyItIsShort() throws {
        let engine = try open()
        try ready(engine)
        let bought = Event(itemId: "sku-02-01", kind: .purchase, timestampMs: now - 7 * 86_400_000)
        _ = try engine.record(events: history + [bought])
        let list = try engine.recommend(request: RecommendRequest(k: 5, nowMs: now, mode: .buyAgain))
        XCTAssertEqual(list.items.map(\.itemId), ["sku-02-01"])
        XCTAssertEqual(list.shortfall, Shortfall(missing: 4, reason: .fewerPurchases))
    }

    func testABatchOfTenThousandIsTakenAndOneMoreIsRefused() throws {
        let engine = try open()
        try ready(engine)
        let batch = (0..<10_000).map { Event(itemId: "sku-01-0\($0 % 9 + 1)", kind: .view, timestampMs: now - 3_600_000 + Int64($0)) }
        XCTAssertEqual(try engine.record(events: batch).stored, 10_000)
        XCTAssertThrowsError(try engine.record(events: batch + [batch[0]])) { guard case MizanError.InvalidInput = $0 else { return XCTFail("\($0)") } }
        XCTAssertEqual(try engine.inspect().events, 10_000, "the refused batch stored nothing")
    }

    func testRotatingTheKeyLeavesOnlyTheNewKeyWorking() throws {
        let engine = try open()
        try ready(engine)
        _ = try engine.record(events: history)
        try engine.rotateKey(newKeyProvider: FixedKey(7))
        try engine.shutdown()
        XCTAssertThrowsError(try open()) { guard case MizanError.WrongKey = $0 else { return XCTFail("\($0)") } }
        XCTAssertEqual(try open(FixedKey(7)).inspect().events, Int64(history.count))
    }

    func testAStoreWhoseKeyIsLostCanStillBeErased() throws {
        let engine = try open()
        try ready(engine)
        _ = try engine.record(events: history)
        try engine.shutdown()
        XCTAssertThrowsError(try open(FixedKey(9)))
        try destroyStore(dataDir: dir.appendingPathComponent("store").path)
        XCTAssertEqual(try open(FixedKey(9)).inspect().events, 0, "erased without the lost key, and usable again")
    }

    func testLogLinesReachASwiftLoggerAndNameNoItem() throws {
        let lines = Lines()
        setLogger(logger: lines, maxLevel: .info)
        let engine = try open()
        try ready(engine)
        _ = try engine.record(events: history)
        XCTAssertFalse(lines.all.isEmpty)
        XCTAssertFalse(lines.all.contains { line in history.contains { line.contains($0.itemId) } }, "no item id in a log line")
    }

    func testEightTasksRecordAndRankAtOnce() async throws {
        let engine = try open()
        try ready(engine)
        let start = now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for b in 0..<25 {
                        let events = (0..<10).map { e in
                            Event(itemId: "sku-0\(t % 8 + 1)-0\(e % 9 + 1)", kind: .view, timestampMs: start - 3_600_000 + Int64(t * 1_000 + b * 10 + e))
                        }
                        _ = try await engine.record(events: events)
                        _ = try await engine.recommend(request: RecommendRequest(k: 5, nowMs: start))
                    }
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(try engine.inspect().events, 8 * 25 * 10, "every acknowledged event is there once")
    }

    func testAsyncOverloadsRunOffTheCallersActor() async throws {
        let engine = try await Engine.open(config: EngineConfig(dataDir: dir.appendingPathComponent("async").path, trustedPackKeys: [trustedKey]), keyProvider: FixedKey(3))
        try await engine.setConsent(purpose: personalisationPurpose(), granted: true, policyVersion: "policy-1", eraseOnWithdraw: false)
        _ = try await engine.loadCatalog(signedPack: pack)
        let outcome = try await engine.record(events: history)
        XCTAssertEqual(outcome.stored, Int32(history.count))
        let list = try await engine.recommend(request: RecommendRequest(k: 5, nowMs: now))
        XCTAssertEqual(list.items.count, 5)
    }
}

/// Collects the messages of the log lines the engine hands to Swift.
final class Lines: Logger, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func log(level: LogLevel, target: String, message: String) {
        lock.lock()
        lines.append(message)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}
