using System.Text;
using Appliance.Storage;
using Appliance.Certificates.Vault;
using Appliance.Platform.Email;

namespace Appliance.Email;

/// <summary>
/// The "email" module's table: one row of SMTP settings. The SMTP password is stored only sealed by the vault
/// (bound to "smtp-password"), like private keys; it is never returned by the API.
/// </summary>
internal sealed class EmailSettingsStore
{
    public const string Module = "email";
    private static readonly byte[] PasswordBinding = Encoding.UTF8.GetBytes("smtp-password");

    internal static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE email_settings (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            enabled INTEGER NOT NULL,
            server TEXT NOT NULL,
            port INTEGER NOT NULL,
            security TEXT NOT NULL,
            username TEXT,
            password_sealed BLOB,
            sender TEXT NOT NULL,
            recipients TEXT NOT NULL,
            updated_at TEXT NOT NULL);
        """,
        "ALTER TABLE email_settings ADD COLUMN trusted_certificate TEXT;",
    ];

    private readonly StateDatabase _database;
    private readonly IKeyVault _vault;
    private readonly TimeProvider _time;

    public EmailSettingsStore(StateDatabase database, IKeyVault vault, TimeProvider time)
    {
        _database = database;
        _vault = vault;
        _time = time;
        _database.Migrate(Module, Migrations);
    }

    /// <summary>The settings with the password unsealed; <see cref="SmtpSettings.Disabled"/> when none were saved.</summary>
    public SmtpSettings Load()
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null,
            "SELECT enabled, server, port, security, username, password_sealed, sender, recipients, trusted_certificate FROM email_settings WHERE id = 1");
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return SmtpSettings.Disabled;
        // MailKit takes the password as a string; the decrypted bytes at least do not outlive it.
        var password = reader.IsDBNull(5) ? null : _vault.OpenAndUse((byte[])reader.GetValue(5), PasswordBinding, Encoding.UTF8.GetString);
        return new SmtpSettings(reader.GetInt64(0) != 0, reader.GetString(1), (int)reader.GetInt64(2),
            SmtpSettings.ParseSecurity(reader.GetString(3)) ?? SmtpSecurity.StartTls,
            reader.IsDBNull(4) ? null : reader.GetString(4), password, reader.GetString(6),
            reader.GetString(7).Split('\n', StringSplitOptions.RemoveEmptyEntries)) { TrustedCertificate = reader.IsDBNull(8) ? null : reader.GetString(8) };
    }

    public void Save(SmtpSettings settings)
    {
        using var connection = _database.Open();
        using var command = Sql.Command(connection, null, """
            INSERT INTO email_settings (id, enabled, server, port, security, username, password_sealed, sender, recipients, trusted_certificate, updated_at)
            VALUES (1, $enabled, $server, $port, $security, $user, $password, $sender, $recipients, $trusted, $at)
            ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, server = excluded.server, port = excluded.port,
                security = excluded.security, username = excluded.username, password_sealed = excluded.password_sealed,
                sender = excluded.sender, recipients = excluded.recipients, trusted_certificate = excluded.trusted_certificate,
                updated_at = excluded.updated_at
            """,
            ("$enabled", settings.Enabled ? 1 : 0), ("$server", settings.Server), ("$port", settings.Port),
            ("$security", SmtpSettings.SecurityName(settings.Security)), ("$user", settings.Username),
            ("$password", settings.Password is { Length: > 0 } password ? Seal(password) : null),
            ("$sender", settings.Sender), ("$recipients", string.Join('\n', settings.Recipients)), ("$trusted", settings.TrustedCertificate),
            ("$at", _time.GetUtcNow().ToString("O")));
        command.ExecuteNonQuery();
    }

    private byte[] Seal(string password)
    {
        var plaintext = Encoding.UTF8.GetBytes(password);
        try
        {
            return _vault.Seal(plaintext, PasswordBinding);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
