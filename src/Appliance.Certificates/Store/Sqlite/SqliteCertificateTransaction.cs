using System.Globalization;
using Appliance.Certificates.Formats;
using Appliance.Storage;
using Microsoft.Data.Sqlite;

namespace Appliance.Certificates.Store;

/// <summary>One write of <see cref="SqliteCertificatePersistence"/>: SQL statements in its transaction.</summary>
internal sealed class SqliteCertificateTransaction(SqliteConnection connection, SqliteTransaction transaction, SqliteViewReader reader, TimeProvider time)
    : ICertificateTransaction
{
    private StoreView? _view;

    // Read on first use: a write that needs no view (key re-encryption) reads no certificate.
    public StoreView View => _view ??= reader.Read(connection, transaction);

    public byte[]? SealedKey(string keyId) => SealedKey(connection, transaction, keyId);

    internal static byte[]? SealedKey(SqliteConnection connection, SqliteTransaction? transaction, string keyId) =>
        Sql.Scalar(connection, transaction, "SELECT sealed FROM keys WHERE id = $id", ("$id", keyId)) as byte[];

    public IReadOnlyList<(string KeyId, byte[] Sealed)> SealedKeys() => SealedKeys(connection, transaction);

    internal static List<(string KeyId, byte[] Sealed)> SealedKeys(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var rows = new List<(string, byte[])>();
        using var command = Sql.Command(connection, transaction, "SELECT id, sealed FROM keys ORDER BY id");
        using var read = command.ExecuteReader();
        while (read.Read()) rows.Add((read.GetString(0), (byte[])read["sealed"]));
        return rows;
    }

    public void InsertCertificate(string id, CertificateEntry entry, string friendlyName, CertificateSource source)
    {
        Sql.Execute(connection, transaction, """
            INSERT INTO certificates (id, der, sha256, public_key_sha256, friendly_name, source, is_factory, created_at, derived, derived_version)
            VALUES ($id, $der, $sha, $pk, $name, $src, $f, $t, $d, $dv)
            """, ("$id", id), ("$der", entry.Der), ("$sha", entry.Sha256), ("$pk", entry.Data.Facts.PublicKeySha256),
            ("$name", friendlyName), ("$src", source.ToText()), ("$f", source == CertificateSource.Factory ? 1 : 0), ("$t", Now()),
            ("$d", entry.Data.ToJson()), ("$dv", DerivedCertificateData.Version));
        reader.Entries.Add(entry);
    }

    public void InsertKey(string keyId, string publicKeySha256, KeyAlgorithm algorithm, int keySize, byte[] sealedKey) =>
        Sql.Execute(connection, transaction, """
            INSERT INTO keys (id, public_key_sha256, algorithm, key_size, sealed, created_at) VALUES ($id, $h, $a, $s, $k, $t)
            """, ("$id", keyId), ("$h", publicKeySha256), ("$a", algorithm.ToString()), ("$s", keySize), ("$k", sealedKey), ("$t", Now()));

    public void ReplaceSealedKey(string keyId, byte[] sealedKey) =>
        Sql.Execute(connection, transaction, "UPDATE keys SET sealed = $k WHERE id = $id", ("$k", sealedKey), ("$id", keyId));

    public void InsertRequest(NewCertificateRequest request) =>
        Sql.Execute(connection, transaction, """
            INSERT INTO certificate_requests (id, friendly_name, country, state, locality, organization, organizational_unit, common_name,
                subject_alternative_names, key_id, der, created_at)
            VALUES ($id, $name, $c, $st, $l, $o, $ou, $cn, $sans, $key, $der, $at)
            """,
            ("$id", request.Id), ("$name", request.FriendlyName), ("$c", request.Subject.Country?.ToUpperInvariant()), ("$st", request.Subject.State),
            ("$l", request.Subject.Locality), ("$o", request.Subject.Organization), ("$ou", request.Subject.OrganizationalUnit),
            ("$cn", request.Subject.CommonName), ("$sans", string.Join('\n', request.SubjectAlternativeNames)), ("$key", request.KeyId),
            ("$der", request.Der), ("$at", request.CreatedAt.ToString("O", CultureInfo.InvariantCulture)));

    public void CompleteRequest(string requestId, string certificateId) =>
        Sql.Execute(connection, transaction, "UPDATE certificate_requests SET certificate_id = $c WHERE id = $r", ("$c", certificateId), ("$r", requestId));

    public void DeleteCertificate(string id)
    {
        Sql.Execute(connection, transaction, "UPDATE certificate_requests SET certificate_id = NULL WHERE certificate_id = $id", ("$id", id));
        Sql.Execute(connection, transaction, "DELETE FROM certificates WHERE id = $id", ("$id", id));
    }

    public void DeleteRequest(string id) =>
        Sql.Execute(connection, transaction, "DELETE FROM certificate_requests WHERE id = $id", ("$id", id));

    public void DeleteKeyIfUnused(string keyId) =>
        Sql.Execute(connection, transaction, """
            DELETE FROM keys WHERE id = $k
              AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.public_key_sha256 = keys.public_key_sha256)
              AND NOT EXISTS (SELECT 1 FROM certificate_requests r WHERE r.key_id = keys.id)
            """, ("$k", keyId));

    public void SetDefault(string? certificateId) =>
        Sql.Execute(connection, transaction, "INSERT INTO settings (name, value) VALUES ($n, $v) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            ("$n", SqliteViewReader.DefaultSetting), ("$v", certificateId));

    public void Assign(string address, string? certificateId) =>
        Sql.Execute(connection, transaction, """
            INSERT INTO address_assignments (address, certificate_id) VALUES ($a, $c)
            ON CONFLICT (address) DO UPDATE SET certificate_id = excluded.certificate_id
            """, ("$a", address), ("$c", certificateId));

    private string Now() => time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
}
