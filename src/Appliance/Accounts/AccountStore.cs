using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Appliance.Storage;
using Microsoft.Data.Sqlite;

namespace Appliance.Accounts;

internal sealed record Account(long Id, string Username, bool MustChangePassword);

/// <summary>An admin as listed on Users: whether they still hold a one-time password, and how many sessions are open.</summary>
internal sealed record AdminAccount(long Id, string Username, bool MustChangePassword, DateTimeOffset CreatedAt, int Sessions);

internal sealed record ApiToken(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>
/// Admin accounts, login sessions and API tokens. Secrets (session ids, tokens) are random 256-bit values
/// handed out once; only their SHA-256 is stored. Sessions end after <see cref="IdleTimeout"/> without use
/// or <see cref="AbsoluteTimeout"/> after login. Every password hash runs through the <see cref="PasswordHashGate"/>;
/// logins meet the <see cref="LoginThrottle"/> first.
/// </summary>
internal sealed class AccountStore
{
    public const string Module = "accounts";
    public const int MinPasswordLength = 10;
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan AbsoluteTimeout = TimeSpan.FromHours(12);
    /// <summary>Usernames and passwords longer than this (UTF-8) are refused before they are hashed, stored or logged.</summary>
    public const int MaxCredentialBytes = 256;

    private static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            must_change_password INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL);
        CREATE TABLE sessions (
            id_sha256 TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL);
        CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            token_sha256 TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            last_used_at TEXT);
        """,
    ];

    private readonly StateDatabase _database;
    private readonly TimeProvider _time;
    private readonly Hosting.StatePartition? _partition;
    private readonly UnsavedSessions _unsaved = new();
    private readonly PasswordHashGate _hashes;

    /// <param name="partition">When given, a full disk does not stop logins and reads: sessions are then kept in memory
    /// (<see cref="UnsavedSessions"/>) and last-seen/last-used times are not updated.</param>
    public AccountStore(StateDatabase database, TimeProvider time, Hosting.StatePartition? partition = null, PasswordHashGate? hashes = null)
    {
        _database = database;
        _time = time;
        _partition = partition;
        _hashes = hashes ?? new PasswordHashGate(PasswordHashGate.DefaultPermits);
        Throttle = new LoginThrottle(time);
        _database.Migrate(Module, Migrations);
    }

    public LoginThrottle Throttle { get; }

    public bool HasAccounts()
    {
        using var connection = _database.Open();
        return Sql.Scalar<long>(connection, null, "SELECT COUNT(*) FROM users") > 0;
    }

    /// <summary>The first admin, at start-up (nothing else hashes yet, so the gate is not needed).</summary>
    public void CreateAccount(string username, string password, bool mustChangePassword) =>
        Insert(username, PasswordHasher.Hash(password), mustChangePassword);

    private void Insert(string username, string passwordHash, bool mustChangePassword)
    {
        using var connection = _database.Open();
        Sql.Execute(connection, null, "INSERT INTO users (username, password_hash, must_change_password, created_at) VALUES ($u, $p, $m, $t)",
            ("$u", username), ("$p", passwordHash), ("$m", mustChangePassword ? 1 : 0), ("$t", Now()));
    }

    public IReadOnlyList<AdminAccount> ListAccounts()
    {
        var now = _time.GetUtcNow();
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, """
            SELECT u.id, u.username, u.must_change_password, u.created_at,
                (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.last_seen_at > $idle AND s.created_at > $absolute)
            FROM users u ORDER BY u.username COLLATE NOCASE
            """,
            ("$idle", (now - IdleTimeout).ToString("O", CultureInfo.InvariantCulture)),
            ("$absolute", (now - AbsoluteTimeout).ToString("O", CultureInfo.InvariantCulture)));
        using var reader = command.ExecuteReader();
        var accounts = new List<AdminAccount>();
        while (reader.Read())
            accounts.Add(new AdminAccount(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2) != 0,
                DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture), (int)reader.GetInt64(4)));
        return accounts;
    }

    /// <summary>
    /// Adds an admin with an initial password chosen by the admin adding them; like the first one-time password it
    /// must be changed at the first login.
    /// </summary>
    public async Task<AdminAccount> AddAdminAsync(string username, string password, CancellationToken aborted)
    {
        username = username.Trim();
        if (username.Length is 0 or > 64 || !username.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@'))
            throw new AccountException(AccountFailure.Invalid, $"The username '{username}' cannot be used: use 1 to 64 letters, digits, '.', '-', '_' or '@'.");
        ValidateNewPassword(password, initial: true);
        if (ListAccounts().Any(a => string.Equals(a.Username, username, StringComparison.OrdinalIgnoreCase)))
            throw new AccountException(AccountFailure.Conflict, $"There is already an admin '{username}'; choose another username.");
        Insert(username, await _hashes.RunAsync(() => PasswordHasher.Hash(password), aborted), mustChangePassword: true);
        return ListAccounts().Single(a => string.Equals(a.Username, username, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Removes an admin with their sessions and API tokens. The last admin is never removed (nobody could log in
    /// again); removing yourself is allowed while another admin is left, and ends your session.
    /// </summary>
    public AdminAccount RemoveAdmin(Account actor, string username)
    {
        var accounts = ListAccounts();
        var target = Find(accounts, username);
        if (accounts.Count == 1)
            throw new AccountException(AccountFailure.Conflict, target.Id == actor.Id
                ? $"You are the only admin: '{target.Username}' cannot be removed. Add another admin first if someone else should manage the appliance."
                : $"'{target.Username}' is the only admin and cannot be removed.");
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, "DELETE FROM users WHERE id = $id", ("$id", target.Id));
        command.ExecuteNonQuery();
        _unsaved.EndAll(target.Id);
        return target;
    }

    /// <summary>
    /// Gives an admin a new random one-time password (returned once, to be handed over) that must be changed at the
    /// next login; their open sessions end and their API tokens are revoked (a reset is what an admin does when the
    /// account may be in the wrong hands). Your own password is changed on Change password instead.
    /// </summary>
    public async Task<(AdminAccount Account, string OneTimePassword)> ResetPasswordAsync(Account actor, string username, CancellationToken aborted)
    {
        var target = Find(ListAccounts(), username);
        if (target.Id == actor.Id)
            throw new AccountException(AccountFailure.Conflict, "You cannot reset your own password here: use Change password, which asks for your current one.");
        var oneTime = NewOneTimePassword();
        var hash = await _hashes.RunAsync(() => PasswordHasher.Hash(oneTime), aborted);
        using var connection = _database.Open();
        using var transaction = connection.BeginTransaction();
        using (var update = Sql.Command(connection, transaction, "UPDATE users SET password_hash = $p, must_change_password = 1 WHERE id = $id",
            ("$p", hash), ("$id", target.Id)))
            update.ExecuteNonQuery();
        using (var sessions = Sql.Command(connection, transaction, "DELETE FROM sessions WHERE user_id = $id", ("$id", target.Id)))
            sessions.ExecuteNonQuery();
        using (var tokens = Sql.Command(connection, transaction, "DELETE FROM api_tokens WHERE user_id = $id", ("$id", target.Id)))
            tokens.ExecuteNonQuery();
        transaction.Commit();
        _unsaved.EndAll(target.Id);
        return (target with { MustChangePassword = true, Sessions = 0 }, oneTime);
    }

    private static AdminAccount Find(IReadOnlyList<AdminAccount> accounts, string username) =>
        accounts.FirstOrDefault(a => string.Equals(a.Username, username, StringComparison.OrdinalIgnoreCase))
        ?? throw new AccountException(AccountFailure.NotFound, $"There is no admin '{username}'; it may have been removed already.");

    /// <summary>
    /// Checks the password and opens a session; returns the session secret (for the cookie). Refused before any hashing:
    /// over-long input (400), and what the <see cref="LoginThrottle"/> refuses for this username and client address (429).
    /// </summary>
    public async Task<(Account Account, string SessionSecret)> LoginAsync(string username, string password, IPAddress? client, CancellationToken aborted)
    {
        CheckLength("username", username);
        CheckLength("password", password);
        if (Throttle.Begin(username, client) is { } refusal)
            throw new AccountException(AccountFailure.Throttled, refusal.Message) { RetryAfter = refusal.RetryAfter };
        string? hash = null;
        Account? account = null;
        bool? ok = null;
        try
        {
            using (var connection = _database.Open())
            using (var command = Sql.Command(connection, null, "SELECT id, username, password_hash, must_change_password FROM users WHERE username = $u",
                       ("$u", username)))
            {
                using var reader = command.ExecuteReader();
                if (reader.Read())
                {
                    account = new Account(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(3) != 0);
                    hash = reader.GetString(2);
                }
            }
            // Verify against a dummy hash for unknown users so timing does not reveal which usernames exist.
            ok = await _hashes.RunAsync(() => PasswordHasher.Verify(password, hash ?? DummyHash.Value), aborted) && account is not null;
        }
        finally
        {
            // Every attempt the throttle let through ends in one of its outcomes, whatever happened.
            if (ok is null) Throttle.Abandoned(client);
            else if (ok.Value) Throttle.Succeeded(username, client);
            else Throttle.Failed(username, client);
        }
        if (ok != true) throw new AccountException(AccountFailure.WrongCredentials, "The username or password is wrong; check both and try again.");
        var secret = NewSecret();
        try
        {
            using var connection = _database.Open();
            Sql.Execute(connection, null, "INSERT INTO sessions (id_sha256, user_id, created_at, last_seen_at) VALUES ($h, $u, $t, $t)",
                ("$h", Sha256(secret)), ("$u", account!.Id), ("$t", Now()));
        }
        catch (Exception e) when (_partition?.SkipWhenFull(e, "a new session (kept in memory until the service restarts)") == true)
        {
            _unsaved.Open(Sha256(secret), account!.Id, _time.GetUtcNow());
        }
        return (account!, secret);
    }

    /// <summary>Refuses a username or password over <see cref="MaxCredentialBytes"/> (UTF-8) without repeating it.</summary>
    public static void CheckLength(string field, string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > MaxCredentialBytes)
            throw new AccountException(AccountFailure.Invalid, $"The {field} is {bytes} bytes long; at most {MaxCredentialBytes} bytes (UTF-8) are accepted.");
    }

    /// <summary>
    /// A stable, non-secret name for a session or API token secret (its SHA-256, as stored): what anti-forgery tokens
    /// are bound to.
    /// </summary>
    public static string SecretId(string secret) => Sha256(secret);

    private static readonly Lazy<string> DummyHash = new(() => PasswordHasher.Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))));

    /// <summary>The account of a live session, sliding its idle timeout; null when unknown or expired.</summary>
    public Account? FindSession(string secret)
    {
        var now = _time.GetUtcNow();
        using var connection = _database.Open();
        var hash = Sha256(secret);
        using var command = Sql.Command(connection, null, """
            SELECT u.id, u.username, u.must_change_password, s.created_at, s.last_seen_at
            FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_sha256 = $h
            """, ("$h", hash));
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return _unsaved.Find(hash, now, IdleTimeout, AbsoluteTimeout) is { } userId ? FindAccount(connection, userId) : null;
        if (_unsaved.IsEnded(hash)) return null;
        var created = DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture);
        var lastSeen = DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture);
        var account = new Account(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2) != 0);
        reader.Close();
        if (now - lastSeen > IdleTimeout || now - created > AbsoluteTimeout)
        {
            Logout(secret);
            return null;
        }
        try
        {
            Sql.Execute(connection, null, "UPDATE sessions SET last_seen_at = $t WHERE id_sha256 = $h", ("$t", Now()), ("$h", hash));
        }
        catch (Exception e) when (_partition?.SkipWhenFull(e, "a session's last-seen time") == true)
        {
        }
        return account;
    }

    private static Account? FindAccount(SqliteConnection connection, long userId)
    {
        using var command = Sql.Command(connection, null, "SELECT id, username, must_change_password FROM users WHERE id = $id", ("$id", userId));
        using var reader = command.ExecuteReader();
        return reader.Read() ? new Account(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2) != 0) : null;
    }

    public void Logout(string secret)
    {
        var hash = Sha256(secret);
        try
        {
            using var connection = _database.Open();
            Sql.Execute(connection, null, "DELETE FROM sessions WHERE id_sha256 = $h", ("$h", hash));
            _unsaved.End(hash, rowKept: false);
        }
        catch (Exception e) when (_partition?.SkipWhenFull(e, "the end of a session (refused in memory until the service restarts)") == true)
        {
            _unsaved.End(hash, rowKept: true);
        }
    }

    /// <summary>
    /// Changes the admin's own password and ends their other sessions (the one making the change, if any, stays open);
    /// API tokens keep working.
    /// </summary>
    public async Task ChangePasswordAsync(Account account, string? currentSessionSecret, string currentPassword, string newPassword, CancellationToken aborted)
    {
        CheckLength("current password", currentPassword);
        CheckLength("new password", newPassword);
        using var connection = _database.Open();
        var hash = (string)Sql.Scalar(connection, null, "SELECT password_hash FROM users WHERE id = $id", ("$id", account.Id))!;
        if (!await _hashes.RunAsync(() => PasswordHasher.Verify(currentPassword, hash), aborted))
            throw new AccountException(AccountFailure.Invalid, "The current password is wrong; enter the password you logged in with.");
        ValidateNewPassword(newPassword, currentPassword);
        var newHash = await _hashes.RunAsync(() => PasswordHasher.Hash(newPassword), aborted);
        using var transaction = connection.BeginTransaction();
        using (var update = Sql.Command(connection, transaction, "UPDATE users SET password_hash = $p, must_change_password = 0 WHERE id = $id",
            ("$p", newHash), ("$id", account.Id)))
            update.ExecuteNonQuery();
        using (var others = Sql.Command(connection, transaction, "DELETE FROM sessions WHERE user_id = $id AND id_sha256 <> $keep",
            ("$id", account.Id), ("$keep", currentSessionSecret is null ? "" : Sha256(currentSessionSecret))))
            others.ExecuteNonQuery();
        transaction.Commit();
        _unsaved.EndAll(account.Id, currentSessionSecret is null ? null : Sha256(currentSessionSecret));
    }

    public static void ValidateNewPassword(string password, string? previous = null, bool initial = false)
    {
        CheckLength($"{(initial ? "initial" : "new")} password", password);
        if (password.Length < MinPasswordLength)
            throw new AccountException(AccountFailure.Invalid, $"The {(initial ? "initial" : "new")} password has {password.Length} characters; use at least {MinPasswordLength}.");
        if (previous is not null && password == previous)
            throw new AccountException(AccountFailure.Invalid, "The new password is the same as the current one; choose a different password.");
    }

    public (ApiToken Token, string Secret) CreateToken(Account account, string name)
    {
        name = name.Trim();
        if (name.Length is 0 or > 64 || name.Any(char.IsControl))
            throw new AccountException(AccountFailure.Invalid, "Give the API token a name of 1 to 64 printable characters, for example the script that will use it.");
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = "apl_" + NewSecret();
        var now = _time.GetUtcNow();
        using var connection = _database.Open();
        Sql.Execute(connection, null, "INSERT INTO api_tokens (id, name, token_sha256, user_id, created_at) VALUES ($id, $n, $h, $u, $t)",
            ("$id", id), ("$n", name), ("$h", Sha256(secret)), ("$u", account.Id), ("$t", now.ToString("O", CultureInfo.InvariantCulture)));
        return (new ApiToken(id, name, now, null), secret);
    }

    public Account? FindToken(string secret)
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, """
            SELECT u.id, u.username, u.must_change_password FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_sha256 = $h
            """, ("$h", Sha256(secret)));
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        var account = new Account(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2) != 0);
        reader.Close();
        try
        {
            Sql.Execute(connection, null, "UPDATE api_tokens SET last_used_at = $t WHERE token_sha256 = $h", ("$t", Now()), ("$h", Sha256(secret)));
        }
        catch (Exception e) when (_partition?.SkipWhenFull(e, "an API token's last-used time") == true)
        {
        }
        return account;
    }

    public IReadOnlyList<ApiToken> ListTokens()
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, "SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY created_at");
        using var reader = command.ExecuteReader();
        var tokens = new List<ApiToken>();
        while (reader.Read())
            tokens.Add(new ApiToken(reader.GetString(0), reader.GetString(1),
                DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
                reader.IsDBNull(3) ? null : DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture)));
        return tokens;
    }

    public bool RevokeToken(string id)
    {
        using var connection = _database.Open();
        return Sql.Execute(connection, null, "DELETE FROM api_tokens WHERE id = $id", ("$id", id)) > 0;
    }

    private string Now() => _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    private static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Sha256(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>A random one-time password of 16 characters from an alphabet without look-alikes.</summary>
    public static string NewOneTimePassword()
    {
        const string alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 16);
    }
}
