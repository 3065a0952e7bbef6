package cn.gridpatrol.patrolkit

import cn.gridpatrol.ffi.GridPatrolException

/**
 * What a call into the core gave: a value, or an error the screen can act on. Screens `when` over
 * it instead of catching exceptions, so no error path is forgotten.
 */
sealed interface Outcome<out T> {
    data class Ok<out T>(val value: T) : Outcome<T>
    data class Failed(val error: PatrolError) : Outcome<Nothing>

    fun getOrNull(): T? = (this as? Ok)?.value

    /** The value, or the error thrown (for tests and scripts). */
    fun getOrThrow(): T = when (this) {
        is Ok -> value
        is Failed -> throw IllegalStateException("${error.code}: ${error.en}")
    }
}

/** The errors a screen acts on, each with its message in zh-CN and English. */
sealed class PatrolError(val code: String, val zh: String, val en: String) {
    /** Show [zh] next to the field named [field]. */
    class InvalidInput(val field: String, zh: String, en: String) : PatrolError("invalid_input", zh, en)
    /** Not allowed now: state, role, scope, separation of duties, or unsent work (sync first). */
    class NotAllowed(code: String, zh: String, en: String) : PatrolError(code, zh, en)
    class NotFound(zh: String, en: String) : PatrolError("not_found", zh, en)
    /** Offline or the server refused: everything stays on the phone; try again later. */
    class Network(zh: String, en: String) : PatrolError("network", zh, en)
    /** Go to the sign-in screen. */
    class AuthExpired(zh: String, en: String) : PatrolError("auth_expired", zh, en)
    class Storage(code: String, zh: String, en: String) : PatrolError(code, zh, en)

    override fun toString() = "PatrolError($code: $en)"

    companion object {
        fun from(e: GridPatrolException): PatrolError = when (e) {
            is GridPatrolException.InvalidInput -> InvalidInput(e.field, e.zh, e.en)
            is GridPatrolException.NotAllowed -> NotAllowed(e.code, e.zh, e.en)
            is GridPatrolException.NotFound -> NotFound(e.zh, e.en)
            is GridPatrolException.Network -> Network(e.zh, e.en)
            is GridPatrolException.AuthExpired -> AuthExpired(e.zh, e.en)
            is GridPatrolException.Storage -> Storage(e.code, e.zh, e.en)
        }
    }
}
