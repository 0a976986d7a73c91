// The consent purposes every engine knows, for `setConsent(purpose:...)`; an app declares any others
// in `EngineConfig.declaredPurposes`. The same strings as `personalisationPurpose()`,
// `searchTermsPurpose()` and `sensitiveProfilingPurpose()`, as constants (checked against the core
// by ios/scripts/check_swift.py).

/// The built-in consent purposes.
public enum Purpose {
    /// Recording events and personalised ranking.
    public static let personalisation = "personalisation"
    /// Keeping search queries as readable words (otherwise only keyed hashes of them).
    public static let searchTerms = "search_terms"
    /// Letting sensitive categories (health, religion, …) shape the profile.
    public static let sensitiveProfiling = "sensitive_profiling"
}
