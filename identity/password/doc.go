// Package password is the user pool's password handling: how a password is
// stored (argon2id hashes in PHC strings), which new passwords are accepted
// (a NIST SP 800-63B policy backed by an offline blocklist), and how much
// hashing the server is willing to do at once.
//
// In the Cognito picture this is the part of the user pool behind SignUp,
// InitiateAuth (USER_PASSWORD_AUTH), ChangePassword and
// ConfirmForgotPassword. It knows nothing about users, HTTP or storage:
// package identity calls it and persists the strings it returns.
//
// # Hashing: why argon2id, and why these parameters
//
// Argon2id won the Password Hashing Competition and is the first choice of
// RFC 9106 and of the OWASP Password Storage Cheat Sheet. It is memory-hard:
// each guess needs its own block of memory, which is what makes GPU and ASIC
// cracking of a stolen database expensive, and its "id" hybrid resists both
// side-channel and time-memory trade-off attacks. [DefaultParams] are OWASP's
// minimum for argon2id (19 MiB, 2 passes, 1 lane): strong enough that a
// leaked hash resists offline guessing, cheap enough (tens of milliseconds on
// one core) that a small server can sign users in. The hashing itself comes
// from golang.org/x/crypto/argon2; only the PHC string format, the
// concurrency cap and the policy are written here.
//
// Hashes are stored as PHC strings,
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// (salt and hash in unpadded standard base64), so every hash carries its own
// parameters. Raising the parameters later does not break existing users:
// [Hasher.Verify] reports needsRehash and the sign-in flow stores a fresh
// hash while it still has the plaintext.
//
// Every password is normalised to Unicode NFKC before it is hashed, measured
// or looked up, as NIST SP 800-63B (§5.1.1.2) recommends, so the same
// characters typed on different keyboards or operating systems (a precomposed
// "é" or "e" plus a combining accent, full-width letters from an input method)
// give the same hash. The normalisation is part of the stored-hash format:
// changing it would lock out users whose passwords are not plain ASCII.
//
// A memory-hard hash makes every sign-in cost memory, so a flood of sign-ins
// could exhaust the server. [Hasher] therefore runs at most a fixed number of
// hashes at once (about one per core, the most that can make progress
// anyway), lets a bounded number of callers wait, and turns everyone else
// away at once with [ErrBusy], which the HTTP layer answers with 429. Memory
// for hashing thus stays near maxConcurrent × Memory however many requests
// arrive. Stored hashes are checked against sane bounds (at most 1 GiB of
// memory, among others) before they are verified, so a corrupt or hostile
// record cannot make one verification exhaust the server either.
//
// # Policy: length and a blocklist, no composition rules
//
// [Policy] follows NIST SP 800-63B §5.1.1.2 and OWASP ASVS V2.1: a minimum
// length (12 by default, never below NIST's floor of 8), a generous maximum
// (256; NIST asks for at least 64) that is enforced by rejecting, never by
// truncating, and a check against a list of commonly used and breached
// passwords and against the user's own email address. It has no composition
// rules ("one digit, one symbol"): NIST advises against them because people
// meet them predictably ("Password1!") while they make passphrases harder to
// use, and length plus a blocklist removes the passwords attackers actually
// try first. A rejection is a [*PolicyError] carrying a stable snake_case
// [Reason] for clients and a human message for the form; neither contains
// the password.
//
// The blocklist ([Blocklist], [DefaultBlocklist]) ships inside the binary, so
// sign-up never depends on an external service and never sends anything
// derived from a password off the machine. Where it comes from, its licences
// and how to rebuild it are in BLOCKLIST_SOURCES.md beside this file.
//
// References:
//   - NIST SP 800-63B, Digital Identity Guidelines: Authentication and
//     Lifecycle Management, §5.1.1.2 Memorized Secret Verifiers.
//   - OWASP Password Storage Cheat Sheet (argon2id parameters) and OWASP
//     ASVS 4.0, V2.1 Password Security.
//   - RFC 9106, Argon2 Memory-Hard Function for Password Hashing.
//   - The PHC string format, github.com/P-H-C/phc-string-format.
package password
