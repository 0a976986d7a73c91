package io.mizan

/**
 * The consent purposes every engine knows, for [Engine.setConsent]; an app declares any others in
 * [EngineConfig.declaredPurposes]. The same strings as [personalisationPurpose],
 * [searchTermsPurpose] and [sensitiveProfilingPurpose], as constants (usable in `when` and annotations).
 */
object Purposes {
    /** Recording events and personalised ranking. */
    const val PERSONALISATION = "personalisation"

    /** Keeping search queries as readable words (otherwise only keyed hashes of them). */
    const val SEARCH_TERMS = "search_terms"

    /** Letting sensitive categories (health, religion, …) shape the profile. */
    const val SENSITIVE_PROFILING = "sensitive_profiling"
}
