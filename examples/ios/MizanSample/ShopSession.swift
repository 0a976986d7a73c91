// What a shop's screens need from Mizan, as the sample app wires it (the Swift twin of
// examples/android/.../ShopSession.kt): one engine for the app's lifetime, every product view
// recorded, lists ranked off the main actor, "why this?", "not interested" and a consent toggle.
import Foundation
import Mizan

/// One row of a "for you" list.
struct Row: Identifiable, Sendable {
    let id: String
    let title: String
    let because: String
}

/// The app's one session over its engine (an engine locks its store: one per process).
final class ShopSession: Sendable {
    /// The privacy policy version the consent screen shows.
    static let policyVersion = "privacy-2026-03"

    private let engine: Engine

    private init(engine: Engine) {
        self.engine = engine
    }

    /// Opens the store in Application Support (kept out of backups) and loads the bundled pack.
    static func open(keyProvider: KeyProvider, trustedPackKey: Data, pack: Data) async throws -> ShopSession {
        var dir = try FileManager.default.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("mizan", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try dir.setResourceValues(values)
        let config = EngineConfig(dataDir: dir.path, trustedPackKeys: [trustedPackKey])
        let engine = try await Engine.open(config: config, keyProvider: keyProvider)
        _ = try await engine.loadCatalog(signedPack: pack)
        return ShopSession(engine: engine)
    }

    /// Whether the person agreed to personalisation (nothing is recorded otherwise).
    func personalised() async throws -> Bool {
        try await engine.inspect().personalised
    }

    /// The consent toggle: on grants personalisation; off withdraws it and erases every recorded event.
    func setPersonalisation(_ enabled: Bool) async throws {
        try await engine.setConsent(purpose: Purpose.personalisation, granted: enabled, policyVersion: Self.policyVersion, eraseOnWithdraw: !enabled)
    }

    /// A product screen was shown for `dwellSecs` seconds.
    func viewed(_ itemId: String, dwellSecs: Double) async throws {
        let event = Event(itemId: itemId, kind: .view, timestampMs: Self.nowMs(), dwellSecs: dwellSecs)
        _ = try await engine.record(events: [event])
    }

    /// The "for you" list: each item with the strongest reason it is there.
    func forYou(count: Int32 = 10) async throws -> [Row] {
        let list = try await engine.recommend(request: RecommendRequest(k: count, nowMs: Self.nowMs()))
        return list.items.map { Row(id: $0.itemId, title: $0.title, because: $0.reasons.first?.text ?? "") }
    }

    /// "Why this?": every reason, strongest first.
    func whyThis(_ itemId: String) async throws -> [String] {
        try await engine.explain(itemId: itemId, nowMs: Self.nowMs()).reasons.map(\.text)
    }

    /// "Not interested": hidden from now on (fading back after 30 days).
    func notInterested(_ itemId: String) async throws {
        try await engine.feedback(feedback: Feedback(notInterested: [itemId], reason: .notRelevant, timestampMs: Self.nowMs()))
    }

    private static func nowMs() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
