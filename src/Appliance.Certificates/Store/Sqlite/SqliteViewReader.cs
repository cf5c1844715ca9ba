using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;
using Appliance.Storage;
using Microsoft.Data.Sqlite;

namespace Appliance.Certificates.Store;

/// <summary>
/// Reads a <see cref="StoreView"/> from the certificates tables. Each row becomes an entry once per process (from its
/// kept derived data, so loading parses no X.509); what a read had to compute (derived data of old rows, new
/// signature checks) is written back so the next process does not compute it again.
/// </summary>
internal sealed class SqliteViewReader(EntryCache entries, ChainIndex chains)
{
    public const string DefaultSetting = "default_certificate_id";

    private readonly Lock _signatureChecksLock = new();
    private bool _signatureChecksRead;

    public EntryCache Entries { get; } = entries;

    /// <summary>Every signature check made for chain building, kept for the life of the process.</summary>
    public ChainIndex Chains { get; } = chains;

    public StoreView Read(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var keys = new List<(string Id, string Hash, KeyAlgorithm Algorithm, int Size)>();
        using (var command = Sql.Command(connection, transaction, "SELECT id, public_key_sha256, algorithm, key_size FROM keys ORDER BY created_at, id"))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                keys.Add((reader.GetString(0), reader.GetString(1), ParseAlgorithm(reader.GetString(2)), reader.GetInt32(3)));

        ReadSignatureChecks(connection, transaction);
        // Each row is read into an entry once per process; a row stored before its derived data was kept (or with an
        // older version of it) is parsed here once and written back below.
        var rows = new List<(string Id, CertificateEntry Entry, string Name, CertificateSource Source, bool Factory)>();
        var derived = new List<CertificateEntry>();
        using (var command = Sql.Command(connection, transaction,
                   "SELECT id, sha256, friendly_name, source, is_factory, derived_version, derived, der FROM certificates ORDER BY created_at, id"))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var sha256 = reader.GetString(1);
                if (!Entries.TryGet(sha256, out var entry))
                {
                    var der = reader.GetFieldValue<byte[]>(7);
                    var data = reader.GetInt32(5) == DerivedCertificateData.Version && !reader.IsDBNull(6) ? DerivedCertificateData.FromJson(reader.GetString(6)) : null;
                    if (data is null) derived.Add(entry = CertificateEntry.Parsed(X509CertificateLoader.LoadCertificate(der)));
                    else entry = CertificateEntry.Stored(der, data);
                    entry = Entries.GetOrAdd(sha256, entry);
                }
                rows.Add((reader.GetString(0), entry, reader.GetString(2), CertificateSources.Parse(reader.GetString(3)), reader.GetInt64(4) != 0));
            }

        var defaultId = Sql.Scalar(connection, transaction, "SELECT value FROM settings WHERE name = $n", ("$n", DefaultSetting)) as string;
        var assignments = new List<CertificateAssignment>();
        using (var command = Sql.Command(connection, transaction, "SELECT address, certificate_id FROM address_assignments ORDER BY address"))
        using (var reader = command.ExecuteReader())
            while (reader.Read()) assignments.Add(new CertificateAssignment(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
        var bindings = assignments.Where(a => a.CertificateId is not null).GroupBy(a => a.CertificateId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(a => a.Address).ToList(), StringComparer.Ordinal);

        var keyByHash = keys.ToDictionary(k => k.Hash, StringComparer.Ordinal);
        var entries = rows.Select(r => r.Entry).ToList();
        var chains = Chains.Build(entries);
        SaveComputed(connection, transaction, derived, Chains.TakeUnsaved(entries.Select(e => e.Sha256).ToHashSet(StringComparer.Ordinal)));
        var certificates = rows.Select((r, i) => new StoredCertificate(
            r.Id, r.Name, r.Entry.Data.Facts, r.Entry.Der, r.Entry.Certificate,
            keyByHash.TryGetValue(r.Entry.Data.Facts.PublicKeySha256, out var key) ? key.Id : null,
            r.Id == defaultId, r.Factory,
            chains[i].Chain.Select(c => rows[c].Id).ToList(),
            chains[i].Complete,
            bindings.TryGetValue(r.Id, out var addresses) ? addresses : [],
            r.Source)).ToList();

        var newestByKey = rows.GroupBy(r => r.Entry.Data.Facts.PublicKeySha256)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(r => r.Entry.Data.Facts.NotAfter).First().Id, StringComparer.Ordinal);
        var storedKeys = keys.Select(k => new StoredKey(k.Id, k.Algorithm, k.Size, newestByKey.GetValueOrDefault(k.Hash))).ToList();
        return new StoreView(certificates, entries, storedKeys, keys.ToDictionary(k => k.Id, k => k.Hash, StringComparer.Ordinal),
            LoadRequests(connection, transaction), assignments);
    }

    /// <summary>Reads the signature checks kept in the database into the chain index, once per store.</summary>
    private void ReadSignatureChecks(SqliteConnection connection, SqliteTransaction? transaction)
    {
        lock (_signatureChecksLock)
        {
            if (_signatureChecksRead) return;
            using var command = Sql.Command(connection, transaction, "SELECT certificate_sha256, issuer_sha256, verified FROM signature_checks");
            using var reader = command.ExecuteReader();
            while (reader.Read()) Chains.Remember(reader.GetString(0), reader.GetString(1), reader.GetInt64(2) != 0);
            _signatureChecksRead = true;
        }
    }

    /// <summary>
    /// Writes back what a load computed: the derived data of rows stored without it (so an upgraded database is slow
    /// once) and the signature checks made. In the caller's transaction when there is one (what its rollback loses is
    /// computed again by the next process), else in a transaction of its own. A check is kept only while both
    /// certificates are still stored; deleting either deletes it (ON DELETE CASCADE).
    /// </summary>
    private static void SaveComputed(SqliteConnection connection, SqliteTransaction? transaction, IReadOnlyList<CertificateEntry> derived,
        IReadOnlyList<(string Certificate, string Issuer, bool Issued)> checks)
    {
        if (derived.Count == 0 && checks.Count == 0) return;
        using var own = transaction is null ? connection.BeginTransaction(deferred: false) : null;
        using (var update = Sql.Command(connection, transaction ?? own, "UPDATE certificates SET derived = $d, derived_version = $v WHERE sha256 = $s"))
        {
            var data = update.Parameters.Add("$d", SqliteType.Text);
            update.Parameters.AddWithValue("$v", DerivedCertificateData.Version);
            var sha256 = update.Parameters.Add("$s", SqliteType.Text);
            foreach (var entry in derived)
            {
                data.Value = entry.Data.ToJson();
                sha256.Value = entry.Sha256;
                update.ExecuteNonQuery();
            }
        }
        using (var insert = Sql.Command(connection, transaction ?? own, """
                   INSERT INTO signature_checks (certificate_sha256, issuer_sha256, verified)
                   SELECT $c, $i, $v WHERE EXISTS (SELECT 1 FROM certificates WHERE sha256 = $c) AND EXISTS (SELECT 1 FROM certificates WHERE sha256 = $i)
                   ON CONFLICT DO NOTHING
                   """))
        {
            var certificate = insert.Parameters.Add("$c", SqliteType.Text);
            var issuer = insert.Parameters.Add("$i", SqliteType.Text);
            var verified = insert.Parameters.Add("$v", SqliteType.Integer);
            foreach (var check in checks)
            {
                certificate.Value = check.Certificate;
                issuer.Value = check.Issuer;
                verified.Value = check.Issued ? 1 : 0;
                insert.ExecuteNonQuery();
            }
        }
        own?.Commit();
    }

    private static List<StoredRequest> LoadRequests(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var requests = new List<StoredRequest>();
        using var command = Sql.Command(connection, transaction, """
            SELECT r.id, r.friendly_name, r.country, r.state, r.locality, r.organization, r.organizational_unit, r.common_name,
                   r.subject_alternative_names, r.key_id, r.der, r.created_at, r.certificate_id, k.algorithm, k.key_size
            FROM certificate_requests r JOIN keys k ON k.id = r.key_id ORDER BY r.created_at, r.id
            """);
        using var reader = command.ExecuteReader();
        static string? S(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);
        while (reader.Read())
        {
            var der = (byte[])reader["der"];
            requests.Add(new StoredRequest(
                reader.GetString(0), reader.GetString(1),
                new SubjectName(S(reader, 2), S(reader, 3), S(reader, 4), S(reader, 5), S(reader, 6), S(reader, 7)),
                reader.GetString(8).Split('\n', StringSplitOptions.RemoveEmptyEntries),
                reader.GetString(9), ParseAlgorithm(reader.GetString(13)), reader.GetInt32(14),
                DateTimeOffset.Parse(reader.GetString(11), CultureInfo.InvariantCulture),
                PemEncoding.WriteString("CERTIFICATE REQUEST", der) + "\n",
                S(reader, 12)));
        }
        return requests;
    }

    private static KeyAlgorithm ParseAlgorithm(string value) => value == nameof(KeyAlgorithm.Rsa) ? KeyAlgorithm.Rsa : KeyAlgorithm.Ecdsa;
}
