// Async variants of the engine's calls that touch the disk or rank, for Swift concurrency.
//
// A host-side wrapper rather than uniffi's async functions: the engine's work is blocking file I/O
// and CPU-bound ranking, so a Rust async function would only hand it to a thread pool the library
// would have to carry (and the mobile library's size budget pays for). Here each call runs on a
// global dispatch queue and is awaited, so it never blocks the caller's actor (e.g. the main
// actor). The engine is thread-safe (`@unchecked Sendable`): tasks may call it concurrently.
import Foundation

/// Runs `body` on a global queue and resumes the awaiting task with its result.
private func offTheCallersActor<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try body() })
        }
    }
}

extension Engine {
    /// Opens (or creates) a store: decryption and replay happen off the caller's actor.
    public static func open(config: EngineConfig, keyProvider: KeyProvider) async throws -> Engine {
        try await offTheCallersActor { try Engine.open(config: config, keyProvider: keyProvider) }
    }

    /// `setConsent` off the caller's actor.
    public func setConsent(purpose: String, granted: Bool, policyVersion: String, eraseOnWithdraw: Bool) async throws {
        try await offTheCallersActor { try self.setConsent(purpose: purpose, granted: granted, policyVersion: policyVersion, eraseOnWithdraw: eraseOnWithdraw) }
    }

    /// `loadCatalog` off the caller's actor (verifying a large pack takes tens of milliseconds).
    public func loadCatalog(signedPack: Data) async throws -> PackInfo {
        try await offTheCallersActor { try self.loadCatalog(signedPack: signedPack) }
    }

    /// `record` off the caller's actor.
    public func record(events: [Event]) async throws -> RecordOutcome {
        try await offTheCallersActor { try self.record(events: events) }
    }

    /// `flush` off the caller's actor.
    public func flush() async throws {
        try await offTheCallersActor { try self.flush() }
    }

    /// `recommend` off the caller's actor.
    public func recommend(request: RecommendRequest) async throws -> Recommendations {
        try await offTheCallersActor { try self.recommend(request: request) }
    }

    /// `explain` off the caller's actor.
    public func explain(itemId: String, nowMs: Int64?) async throws -> Recommendation {
        try await offTheCallersActor { try self.explain(itemId: itemId, nowMs: nowMs) }
    }

    /// `feedback` off the caller's actor.
    public func feedback(feedback: Feedback) async throws {
        try await offTheCallersActor { try self.feedback(feedback: feedback) }
    }

    /// `bestTime` off the caller's actor.
    public func bestTime(request: BestTimeRequest) async throws -> BestTime {
        try await offTheCallersActor { try self.bestTime(request: request) }
    }

    /// `forget` off the caller's actor.
    public func forget(request: ForgetRequest) async throws -> Int64 {
        try await offTheCallersActor { try self.forget(request: request) }
    }

    /// `rotateKey` off the caller's actor (it rewrites the store).
    public func rotateKey(newKeyProvider: KeyProvider) async throws {
        try await offTheCallersActor { try self.rotateKey(newKeyProvider: newKeyProvider) }
    }

    /// `inspect` off the caller's actor.
    public func inspect() async throws -> InspectReport {
        try await offTheCallersActor { try self.inspect() }
    }

    /// `exportUserData` off the caller's actor.
    public func exportUserData() async throws -> String {
        try await offTheCallersActor { try self.exportUserData() }
    }

    /// `eraseAll` off the caller's actor.
    public func eraseAll() async throws {
        try await offTheCallersActor { try self.eraseAll() }
    }

    /// `shutdown` off the caller's actor: sync, snapshot, unlock.
    public func shutdown() async throws {
        try await offTheCallersActor { try self.shutdown() }
    }
}
