using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Storage;
using Appliance.Certificates.Vault;
using Microsoft.Data.Sqlite;

namespace Appliance.Certificates.Store;

/// <summary>
/// The certificate store: certificates, private keys (sealed by the vault), certificate requests,
/// the default certificate and address assignments, in the state database. Every mutation is one
/// transaction: a refused operation changes nothing. <see cref="Changed"/> fires after each commit
/// so the TLS selection snapshot can be rebuilt.
/// </summary>
public sealed class CertificateStore
{
    public const string Module = "certificates";
    public const int MaxFilesPerImport = 20;
    public const int MaxFriendlyNameLength = 64;
    private const string DefaultSetting = "default_certificate_id";
    private static readonly TimeSpan SelfSignedLifetime = TimeSpan.FromDays(365);
    private static readonly TimeSpan FactoryLifetime = TimeSpan.FromDays(3650);

    internal static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE keys (
            id TEXT PRIMARY KEY,
            public_key_sha256 TEXT NOT NULL UNIQUE,
            algorithm TEXT NOT NULL,
            key_size INTEGER NOT NULL,
            sealed BLOB NOT NULL,
            created_at TEXT NOT NULL);
        CREATE TABLE certificates (
            id TEXT PRIMARY KEY,
            der BLOB NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            public_key_sha256 TEXT NOT NULL,
            friendly_name TEXT NOT NULL,
            source TEXT NOT NULL,
            is_factory INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL);
        CREATE INDEX certificates_public_key ON certificates (public_key_sha256);
        CREATE TABLE certificate_requests (
            id TEXT PRIMARY KEY,
            friendly_name TEXT NOT NULL,
            country TEXT, state TEXT, locality TEXT, organization TEXT, organizational_unit TEXT, common_name TEXT,
            subject_alternative_names TEXT NOT NULL,
            key_id TEXT NOT NULL REFERENCES keys (id),
            der BLOB NOT NULL,
            created_at TEXT NOT NULL,
            certificate_id TEXT REFERENCES certificates (id) ON DELETE SET NULL);
        CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE address_assignments (
            address TEXT PRIMARY KEY,
            certificate_id TEXT REFERENCES certificates (id),
            appliance_access INTEGER NOT NULL DEFAULT 1,
            site_access INTEGER NOT NULL DEFAULT 1);
        """,
        // What is read from a certificate's DER, kept at insert so start-up parses no X.509 (DerivedCertificateData;
        // version 0: not computed yet, filled on the next load), and every signature check made for chain building.
        """
        ALTER TABLE certificates ADD COLUMN derived TEXT;
        ALTER TABLE certificates ADD COLUMN derived_version INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE signature_checks (
            certificate_sha256 TEXT NOT NULL REFERENCES certificates (sha256) ON DELETE CASCADE,
            issuer_sha256 TEXT NOT NULL REFERENCES certificates (sha256) ON DELETE CASCADE,
            verified INTEGER NOT NULL,
            PRIMARY KEY (certificate_sha256, issuer_sha256));
        CREATE INDEX signature_checks_issuer ON signature_checks (issuer_sha256);
        """,
    ];

    private readonly StateDatabase _database;
    private readonly IKeyVault _vault;
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CertificateEntry> _entries = new(StringComparer.Ordinal);
    private readonly ChainIndex _chains = new();
    private readonly Lock _signatureChecksLock = new();
    private bool _signatureChecksRead;

    public CertificateStore(StateDatabase database, IKeyVault vault, TimeProvider time)
    {
        _database = database;
        _vault = vault;
        _time = time;
        _database.Migrate(Module, Migrations);
    }

    /// <summary>Raised after every committed change. Handlers must be fast and must not throw.</summary>
    public event Action? Changed;

    public IKeyVault Vault => _vault;

    // ---------------------------------------------------------------- reading

    public IReadOnlyList<StoredCertificate> ListCertificates()
    {
        using var connection = _database.Open();
        return LoadView(connection, null).Certificates;
    }

    public StoredCertificate GetCertificate(string id) =>
        ListCertificates().FirstOrDefault(c => c.Id == id)
        ?? throw NotFound(id);

    public IReadOnlyList<StoredKey> ListKeys()
    {
        using var connection = _database.Open();
        return LoadView(connection, null).Keys;
    }

    public IReadOnlyList<StoredRequest> ListRequests()
    {
        using var connection = _database.Open();
        return LoadRequests(connection, null);
    }

    public StoredRequest GetRequest(string id) =>
        ListRequests().FirstOrDefault(r => r.Id == id)
        ?? throw new CertificateStoreException(StoreFailure.NotFound, $"There is no certificate request with id '{id}'; it may have been deleted. Reload the list.");

    /// <summary>
    /// What a TLS handshake signs with: the certificate's DER and its private key as PKCS#8 (zeroed when the
    /// identity is disposed); the in-memory stand-in for the factory certificate while the vault is closed; null
    /// when the certificate has no key here or the vault is closed.
    /// </summary>
    public ServingIdentity? OpenServingIdentity(StoredCertificate certificate)
    {
        if (certificate.IsFactory && !_vault.IsOpen)
        {
            using var standIn = StandInFactoryCertificate(certificate);
            using var standInKey = standIn.GetECDsaPrivateKey()!;
            return new ServingIdentity(standIn.RawData, standInKey.ExportPkcs8PrivateKey());
        }
        if (certificate.KeyId is null || !_vault.IsOpen) return null;
        using var connection = _database.Open();
        var key = OpenKey(connection, null, certificate.KeyId);
        return new ServingIdentity(certificate.Der.ToArray(), key.Pkcs8);
    }

    // ---------------------------------------------------------------- import

    /// <summary>
    /// Imports one or more files. Certificates are kept once (the same certificate twice is the same entry);
    /// a key is matched to its certificate by public key, completes a pending certificate request, or waits for its
    /// certificate. A certificate with the same subject and key as a stored one and a later expiration renews it.
    /// </summary>
    public ImportResult Import(IReadOnlyList<ImportFile> files, string? password, CancellationToken cancellationToken = default)
    {
        if (files.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "No file was uploaded; choose one or more certificate or key files.");
        if (files.Count > MaxFilesPerImport)
            throw new CertificateStoreException(StoreFailure.Invalid, $"{files.Count} files were uploaded; import at most {MaxFilesPerImport} at a time.");

        var parsed = new List<ParsedFile>();
        try
        {
            // One key-derivation budget for the whole import; an aborted request stops between encrypted elements.
            var budget = new KeyDerivationBudget(cancellationToken);
            foreach (var file in files) parsed.Add(CertificateFileReader.Read(file, password, budget));
            return ImportParsed(parsed);
        }
        finally
        {
            foreach (var key in parsed.SelectMany(p => p.Keys)) key.Dispose();
        }
    }

    private ImportResult ImportParsed(List<ParsedFile> parsed)
    {
        // Distinct certificates and keys across all files, remembering the file each came from for messages.
        var certificates = new Dictionary<string, (CertificateEntry Entry, string File)>();
        foreach (var file in parsed)
            foreach (var certificate in file.Certificates)
            {
                var entry = Entry(certificate);
                certificates.TryAdd(entry.Sha256, (entry, file.FileName));
            }
        var keys = new Dictionary<string, (PrivateKeyMaterial Key, string File)>();
        foreach (var file in parsed)
            foreach (var key in file.Keys)
            {
                var hash = CertificateFacts.PublicKeyHash(key.SubjectPublicKeyInfo);
                keys.TryAdd(hash, (key, file.FileName));
                if (file.Certificates.Count > 0 && !file.Certificates.Any(c => CertificateFacts.PublicKeyHash(c.PublicKey.ExportSubjectPublicKeyInfo()) == hash))
                    throw new CertificateImportException(ImportFailureReason.KeyDoesNotMatch, file.FileName,
                        $"{file.FileName}: the private key in this file belongs to none of the certificates in it; upload the key that was made with this certificate.");
            }
        if (certificates.Count == 0 && keys.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "The uploaded files hold no certificate and no private key.");

        var warnings = new List<string>();
        List<string> importedIds;
        List<string> keyHashes;
        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            var before = LoadView(connection, transaction);
            var pool = before.Entries.Concat(certificates.Values.Select(c => c.Entry)).ToList();

            foreach (var (entry, file) in certificates.Values)
                VerifySignature(entry, file, pool);

            var requests = LoadRequests(connection, transaction);
            importedIds = [];
            var inserted = new List<string>();
            foreach (var (entry, _) in certificates.Values)
            {
                var facts = entry.Data.Facts;
                var id = CertificateId(facts);
                importedIds.Add(id);
                if (before.Certificates.Any(c => c.Id == id)) continue;
                var request = requests.FirstOrDefault(r => r.CertificateId is null && KeyHash(connection, transaction, r.KeyId) == facts.PublicKeySha256);
                var friendlyName = request?.FriendlyName ?? UniqueFriendlyName(DefaultFriendlyName(facts), before.Certificates);
                InsertCertificate(connection, transaction, id, entry, friendlyName, "imported", isFactory: false);
                inserted.Add(id);
                if (request is not null)
                {
                    Exec(connection, transaction, "UPDATE certificate_requests SET certificate_id = $c WHERE id = $r", ("$c", id), ("$r", request.Id));
                    warnings.Add($"The certificate completes the certificate request '{request.FriendlyName}'.");
                }
            }

            keyHashes = [];
            foreach (var (hash, (key, _)) in keys)
            {
                keyHashes.Add(hash);
                if (before.Keys.Any(k => KeyId(hash) == k.Id)) continue;
                InsertKey(connection, transaction, hash, key);
            }

            // Renewal by import: same subject and key, later expiration. The new certificate takes over the default
            // setting and address assignments at once; the old one stays until the admin deletes it.
            foreach (var id in inserted)
            {
                var (entry, _) = certificates.Values.First(c => CertificateId(c.Entry.Data.Facts) == id);
                var facts = entry.Data.Facts;
                if (facts.IsCertificateAuthority) continue;
                foreach (var old in before.Certificates.Where((o, i) =>
                             !o.IsFactory && !o.Facts.IsCertificateAuthority &&
                             o.Facts.PublicKeySha256 == facts.PublicKeySha256 &&
                             before.Entries[i].Data.SubjectName.AsSpan().SequenceEqual(entry.Data.SubjectName) &&
                             o.Facts.NotAfter < facts.NotAfter))
                {
                    var takenOver = new List<string>();
                    if (old.IsDefault)
                    {
                        SetSetting(connection, transaction, DefaultSetting, id);
                        takenOver.Add("the default certificate");
                    }
                    foreach (var address in old.BoundAddresses)
                    {
                        Exec(connection, transaction, "UPDATE address_assignments SET certificate_id = $n WHERE address = $a", ("$n", id), ("$a", address));
                        takenOver.Add(address);
                    }
                    warnings.Add(takenOver.Count == 0
                        ? $"The certificate renews '{old.FriendlyName}' (expiring {old.Facts.NotAfter:yyyy-MM-dd}); the old certificate stays until you delete it."
                        : $"The certificate renews '{old.FriendlyName}' (expiring {old.Facts.NotAfter:yyyy-MM-dd}) and took over {string.Join(", ", takenOver)}; the old certificate stays until you delete it.");
                }
            }
            transaction.Commit();
        }
        Changed?.Invoke();

        using var reader = _database.Open();
        var after = LoadView(reader, null);
        var resultCertificates = importedIds.Distinct().Select(id => after.Certificates.First(c => c.Id == id)).ToList();
        var resultKeys = keyHashes.Select(h => after.Keys.First(k => k.Id == KeyId(h))).ToList();
        foreach (var certificate in resultCertificates.Where(c => !c.ChainComplete))
            warnings.Add($"'{certificate.FriendlyName}': {StoredCertificate.IncompleteChainWarning}.");
        foreach (var key in resultKeys.Where(k => k.CertificateId is null))
            warnings.Add($"The private key ({key.Algorithm.ToString().ToUpperInvariant()} {key.KeySize}) is kept and waits for its certificate; import the certificate to join them.");
        return new ImportResult(resultCertificates, resultKeys, warnings);
    }

    private void VerifySignature(CertificateEntry certificate, string file, List<CertificateEntry> pool)
    {
        var issuers = pool.Where(c => certificate.Data.MayBeIssuedBy(c.Data)).ToList();
        if (issuers.Count == 0) return; // Issuer not here (yet): reported as an incomplete chain, not refused.
        if (issuers.Any(issuer => _chains.IsIssuedBy(certificate, issuer))) return;
        var facts = certificate.Data.Facts;
        throw new CertificateImportException(ImportFailureReason.SignatureInvalid, file,
            $"{file}: the signature of certificate '{facts.CommonName ?? facts.Subject}' does not verify against its issuer '{facts.Issuer}'; the file is damaged or was not issued by that authority. Get the certificate again from your CA.");
    }

    // ---------------------------------------------------------------- issued by an ACME CA

    /// <summary>
    /// Stores a certificate issued by a CA for a key made here (automated certificates): the leaf and its chain
    /// (PEM, leaf first) and the key, in one transaction. When it replaces an earlier certificate, the default setting
    /// and the address assignments move to it, and the replaced one is deleted if it came from the same source
    /// (the appliance made it, so the admin does not keep it). <see cref="Changed"/> fires so TLS serves it at once.
    /// </summary>
    public StoredCertificate StoreIssued(string chainPem, PrivateKeyMaterial key, string friendlyName, string source = "acme", string? replacesCertificateId = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(chainPem);
        }
        catch (CryptographicException e)
        {
            throw new CertificateStoreException(StoreFailure.Invalid, $"The issued certificate chain is not valid PEM ({e.Message}); nothing was stored.");
        }
        if (chain.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "The issued certificate chain holds no certificate; nothing was stored.");
        var leafFacts = Entry(chain[0]).Data.Facts;
        var keyHash = CertificateFacts.PublicKeyHash(key.SubjectPublicKeyInfo);
        if (leafFacts.PublicKeySha256 != keyHash)
            throw new CertificateStoreException(StoreFailure.Invalid, $"The issued certificate '{leafFacts.CommonName ?? leafFacts.Subject}' does not carry the key it was requested for; nothing was stored.");
        var leafId = CertificateId(leafFacts);

        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            var view = LoadView(connection, transaction);
            var old = replacesCertificateId is null || replacesCertificateId == leafId ? null : view.Certificates.FirstOrDefault(c => c.Id == replacesCertificateId);
            var deleteOld = old is not null && old.Source == source && !old.IsFactory;
            // The renewed certificate takes over the friendly name of the one it deletes.
            var names = view.Certificates.Where(c => !(deleteOld && c.Id == old!.Id)).ToList();
            for (var i = 0; i < chain.Count; i++)
            {
                var entry = Entry(chain[i]);
                var facts = entry.Data.Facts;
                var id = CertificateId(facts);
                if (view.Certificates.Any(c => c.Id == id)) continue;
                var name = UniqueFriendlyName(i == 0 ? ValidateFriendlyName(friendlyName) : DefaultFriendlyName(facts), names);
                InsertCertificate(connection, transaction, id, entry, name, source, isFactory: false);
                names.Add(new StoredCertificate(id, name, facts, entry.Der, entry.Certificate, null, false, false, [], false, [], source));
            }
            if (!view.Keys.Any(k => k.Id == KeyId(keyHash))) InsertKey(connection, transaction, keyHash, key);

            if (old is not null)
            {
                if (old.IsDefault) SetSetting(connection, transaction, DefaultSetting, leafId);
                Exec(connection, transaction, "UPDATE address_assignments SET certificate_id = $n WHERE certificate_id = $o", ("$n", leafId), ("$o", old.Id));
                if (deleteOld)
                {
                    Exec(connection, transaction, "UPDATE certificate_requests SET certificate_id = NULL WHERE certificate_id = $id", ("$id", old.Id));
                    Exec(connection, transaction, "DELETE FROM certificates WHERE id = $id", ("$id", old.Id));
                    if (old.KeyId is not null) DeleteKeyIfUnused(connection, transaction, old.KeyId);
                }
            }
            transaction.Commit();
        }
        Changed?.Invoke();
        return GetCertificate(leafId);
    }

    // ---------------------------------------------------------------- create

    /// <summary>Creates a certificate request, or a self-signed certificate; returns the request or the certificate id.</summary>
    public (StoredRequest? Request, StoredCertificate? Certificate) Create(CreateCertificateSpec spec)
    {
        var friendlyName = ValidateFriendlyName(spec.FriendlyName);
        CertificateRequestFactory.ValidateSubject(spec.Subject);
        var subjectAlternativeNames = CertificateRequestFactory.NormalizeSubjectAlternativeNames(spec.Subject, spec.SubjectAlternativeNames);
        var now = _time.GetUtcNow();

        string id;
        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            var view = LoadView(connection, transaction);
            var requests = LoadRequests(connection, transaction);
            if (view.Certificates.Any(c => string.Equals(c.FriendlyName, friendlyName, StringComparison.OrdinalIgnoreCase))
                || requests.Any(r => string.Equals(r.FriendlyName, friendlyName, StringComparison.OrdinalIgnoreCase)))
                throw new CertificateStoreException(StoreFailure.Conflict, $"The friendly name '{friendlyName}' is already used; choose another one (for example the DNS name and the month and year).");

            using var key = ResolveKey(connection, transaction, spec.Key, view);
            var keyHash = CertificateFacts.PublicKeyHash(key.SubjectPublicKeyInfo);
            if (!view.Keys.Any(k => k.Id == KeyId(keyHash))) InsertKey(connection, transaction, keyHash, key);

            if (spec.SelfSigned)
            {
                var certificate = Entry(CertificateRequestFactory.CreateSelfSigned(spec.Subject, subjectAlternativeNames, key, now.AddMinutes(-5), now + SelfSignedLifetime));
                id = CertificateId(certificate.Data.Facts);
                InsertCertificate(connection, transaction, id, certificate, friendlyName, "selfSigned", isFactory: false);
            }
            else
            {
                var der = CertificateRequestFactory.CreateRequest(spec.Subject, subjectAlternativeNames, key);
                id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
                Exec(connection, transaction, """
                    INSERT INTO certificate_requests (id, friendly_name, country, state, locality, organization, organizational_unit, common_name,
                        subject_alternative_names, key_id, der, created_at)
                    VALUES ($id, $name, $c, $st, $l, $o, $ou, $cn, $sans, $key, $der, $at)
                    """,
                    ("$id", id), ("$name", friendlyName), ("$c", spec.Subject.Country?.ToUpperInvariant()), ("$st", spec.Subject.State),
                    ("$l", spec.Subject.Locality), ("$o", spec.Subject.Organization), ("$ou", spec.Subject.OrganizationalUnit),
                    ("$cn", spec.Subject.CommonName), ("$sans", string.Join('\n', subjectAlternativeNames)), ("$key", KeyId(keyHash)),
                    ("$der", der), ("$at", now.ToString("O", CultureInfo.InvariantCulture)));
            }
            transaction.Commit();
        }
        Changed?.Invoke();
        return spec.SelfSigned ? (null, GetCertificate(id)) : (GetRequest(id), null);
    }

    private PrivateKeyMaterial ResolveKey(SqliteConnection connection, SqliteTransaction transaction, string key, View view)
    {
        const string existing = "existing:";
        if (!key.StartsWith(existing, StringComparison.Ordinal)) return KeyFactory.Generate(key);
        var certificateId = key[existing.Length..];
        var certificate = view.Certificates.FirstOrDefault(c => c.Id == certificateId)
            ?? throw new CertificateStoreException(StoreFailure.Invalid, $"There is no certificate with id '{certificateId}' whose key could be used; pick an existing key from the list or a new key type.");
        if (certificate.KeyId is null)
            throw new CertificateStoreException(StoreFailure.Invalid, $"The certificate '{certificate.FriendlyName}' has no private key on this appliance, so its key cannot be reused; choose a new key.");
        return OpenKey(connection, transaction, certificate.KeyId);
    }

    // ---------------------------------------------------------------- default, delete

    /// <summary>Sets (or with null clears) the default certificate, served when SNI is absent or matches nothing.</summary>
    public void SetDefault(string? id)
    {
        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            if (id is not null)
            {
                var certificate = LoadView(connection, transaction).Certificates.FirstOrDefault(c => c.Id == id) ?? throw NotFound(id);
                var refusal = DefaultRefusal(certificate);
                if (refusal is not null) throw new CertificateStoreException(StoreFailure.Invalid, refusal);
            }
            SetSetting(connection, transaction, DefaultSetting, id);
            transaction.Commit();
        }
        Changed?.Invoke();
    }

    /// <summary>Why a certificate cannot be the default (the seed: never self-signed nor the factory certificate), or null.</summary>
    public static string? DefaultRefusal(StoredCertificate certificate) =>
        certificate.IsFactory ? $"'{certificate.FriendlyName}' is the factory certificate, which cannot be the default; import or request a CA-signed certificate."
        : KeyTypeServing.Refusal(certificate.FriendlyName, certificate.Facts.KeyAlgorithm) is { } keyType ? keyType
        : certificate.Facts.IsSelfSigned ? $"'{certificate.FriendlyName}' is self-signed, and a self-signed certificate cannot be the default; use a CA-signed certificate."
        : !certificate.HasPrivateKey ? $"'{certificate.FriendlyName}' has no private key on this appliance, so it cannot serve TLS; import its private key first."
        : null;

    public void Delete(string id)
    {
        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            var view = LoadView(connection, transaction);
            var certificate = view.Certificates.FirstOrDefault(c => c.Id == id) ?? throw NotFound(id);
            if (certificate.IsFactory)
                throw new CertificateStoreException(StoreFailure.InUse, $"'{certificate.FriendlyName}' is the factory certificate; it cannot be deleted because it answers when no other certificate does.");
            var uses = new List<string>();
            if (certificate.IsDefault) uses.Add("it is the default certificate (choose another default first)");
            if (certificate.BoundAddresses.Count > 0) uses.Add($"it is assigned to {string.Join(", ", certificate.BoundAddresses)} (assign another certificate there first)");
            if (uses.Count > 0)
                throw new CertificateStoreException(StoreFailure.InUse, $"'{certificate.FriendlyName}' is in use and was not deleted: {string.Join("; ", uses)}.");

            Exec(connection, transaction, "UPDATE certificate_requests SET certificate_id = NULL WHERE certificate_id = $id", ("$id", id));
            Exec(connection, transaction, "DELETE FROM certificates WHERE id = $id", ("$id", id));
            if (certificate.KeyId is not null) DeleteKeyIfUnused(connection, transaction, certificate.KeyId);
            transaction.Commit();
        }
        Changed?.Invoke();
    }

    public void DeleteRequest(string id)
    {
        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            var request = LoadRequests(connection, transaction).FirstOrDefault(r => r.Id == id)
                ?? throw new CertificateStoreException(StoreFailure.NotFound, $"There is no certificate request with id '{id}'; it may have been deleted. Reload the list.");
            Exec(connection, transaction, "DELETE FROM certificate_requests WHERE id = $id", ("$id", id));
            DeleteKeyIfUnused(connection, transaction, request.KeyId);
            transaction.Commit();
        }
        Changed?.Invoke();
    }

    /// <summary>A key goes when nothing refers to it any more: no certificate with its public key and no request.</summary>
    private static void DeleteKeyIfUnused(SqliteConnection connection, SqliteTransaction transaction, string keyId)
    {
        Exec(connection, transaction, """
            DELETE FROM keys WHERE id = $k
              AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.public_key_sha256 = keys.public_key_sha256)
              AND NOT EXISTS (SELECT 1 FROM certificate_requests r WHERE r.key_id = keys.id)
            """, ("$k", keyId));
    }

    // ---------------------------------------------------------------- export

    public ExportedFile Export(ExportSpec spec)
    {
        if (spec.Ids.Count == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "Select at least one certificate to export.");
        var all = ListCertificates();
        var selected = spec.Ids.Distinct().Select(id => all.FirstOrDefault(c => c.Id == id) ?? throw NotFound(id)).ToList();
        if (!spec.Certificate && !spec.PrivateKey && !spec.Chain)
            throw new CertificateStoreException(StoreFailure.Invalid, "Choose what to export: the certificate, the private key, the chain, or several of them.");
        if (spec.PrivateKey)
        {
            if (spec.Passphrase is null || spec.Passphrase.Length < 8)
                throw new CertificateStoreException(StoreFailure.Invalid, "A private key is exported only with a passphrase of at least 8 characters; enter one and keep it safe.");
            var keyless = selected.FirstOrDefault(c => !c.HasPrivateKey);
            if (keyless is not null)
                throw new CertificateStoreException(StoreFailure.Invalid, $"'{keyless.FriendlyName}' has no private key on this appliance; export it without the private key.");
        }
        var baseName = selected.Count == 1 ? SafeFileName(selected[0].FriendlyName) : "certificates";

        List<X509Certificate2> ChainOf(StoredCertificate c) =>
            c.Chain.Skip(1).Select(id => all.First(a => a.Id == id).Certificate).ToList();

        switch (spec.Format)
        {
            case ExportFormat.Pkcs7:
                if (spec.PrivateKey)
                    throw new CertificateStoreException(StoreFailure.Invalid, "A PKCS#7 file holds certificates only; export private keys individually as PEM or PKCS#12.");
                var bundle = new List<X509Certificate2>();
                foreach (var c in selected)
                {
                    if (spec.Certificate || !spec.Chain) bundle.Add(c.Certificate);
                    if (spec.Chain) bundle.AddRange(ChainOf(c));
                }
                return new ExportedFile(baseName + ".p7b", "application/pkcs7-mime",
                    CertificateExporter.ToPkcs7(bundle.DistinctBy(c => c.Thumbprint)));

            case ExportFormat.Pkcs12:
                if (selected.Count != 1)
                    throw new CertificateStoreException(StoreFailure.Invalid, "PKCS#12 export takes one certificate at a time; export each individually or choose PKCS#7 for certificates only.");
                var one = selected[0];
                using (var connection = _database.Open())
                {
                    using var key = spec.PrivateKey ? OpenKey(connection, null, one.KeyId!) : null;
                    var bytes = CertificateExporter.ToPkcs12(one.Certificate, key, spec.Chain ? ChainOf(one) : [], spec.Passphrase ?? "", one.FriendlyName);
                    return new ExportedFile(baseName + ".p12", "application/x-pkcs12", bytes);
                }

            default:
                var pem = new StringBuilder();
                using (var connection = _database.Open())
                {
                    foreach (var c in selected)
                    {
                        if (spec.Certificate) pem.Append(CertificateExporter.ToPem([c.Certificate]));
                        if (spec.Chain) pem.Append(CertificateExporter.ToPem(ChainOf(c)));
                        if (spec.PrivateKey)
                        {
                            using var key = OpenKey(connection, null, c.KeyId!);
                            pem.Append(CertificateExporter.ToEncryptedPkcs8Pem(key, spec.Passphrase!));
                            if (pem.Length > 0 && pem[^1] != '\n') pem.Append('\n');
                        }
                    }
                }
                return new ExportedFile(baseName + ".pem", "application/x-pem-file", Encoding.ASCII.GetBytes(pem.ToString()));
        }
    }

    // ---------------------------------------------------------------- factory certificate, assignments

    /// <summary>
    /// Makes the factory self-signed certificate on first start (ECDSA P-256, ten years), once. With the vault
    /// closed nothing is stored (its key could not be sealed) and null is returned: TLS then answers with the
    /// in-memory stand-in until the vault opens again.
    /// </summary>
    public StoredCertificate? EnsureFactoryCertificate(string hostName)
    {
        var existing = ListCertificates().FirstOrDefault(c => c.IsFactory);
        if (existing is not null) return existing;
        if (!_vault.IsOpen) return null;
        var now = _time.GetUtcNow();
        var names = new List<string>();
        try
        {
            names.AddRange(CertificateRequestFactory.NormalizeSubjectAlternativeNames(new SubjectName(null, null, null, null, null, hostName), []));
        }
        catch (CertificateRequestException)
        {
            // A host name that is not a DNS name (e.g. "(none)") is left out of the SANs.
        }
        if (!names.Contains("localhost")) names.Add("localhost");
        var subject = new SubjectName(null, null, null, "B Series Appliance", null, hostName.Length is > 0 and <= 64 ? hostName : "appliance");
        string id;
        lock (_writeLock)
        {
            using var key = KeyFactory.Generate("ecdsa-p256");
            var certificate = Entry(CertificateRequestFactory.CreateSelfSigned(subject, names, key, now.AddMinutes(-5), now + FactoryLifetime));
            id = CertificateId(certificate.Data.Facts);
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            InsertKey(connection, transaction, certificate.Data.Facts.PublicKeySha256, key);
            InsertCertificate(connection, transaction, id, certificate, "Factory certificate", "factory", isFactory: true);
            transaction.Commit();
        }
        Changed?.Invoke();
        return GetCertificate(id);
    }

    // ---------------------------------------------------------------- address assignments

    /// <summary>The stored per-address settings; addresses without a row use the defaults (no certificate, both on).</summary>
    public IReadOnlyList<AddressAssignment> ListAssignments()
    {
        using var connection = _database.Open();
        using var command = Command(connection, null, "SELECT address, certificate_id, appliance_access, site_access FROM address_assignments ORDER BY address");
        using var reader = command.ExecuteReader();
        var list = new List<AddressAssignment>();
        while (reader.Read())
            list.Add(new AddressAssignment(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2) != 0, reader.GetInt64(3) != 0));
        return list;
    }

    /// <summary>
    /// Replaces the settings of the given addresses (others stay) in one transaction. A certificate assigned to an
    /// address must be stored with its private key and must not be a certificate authority.
    /// </summary>
    public void SetAssignments(IReadOnlyList<AddressAssignment> assignments)
    {
        lock (_writeLock)
        {
            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            var certificates = LoadView(connection, transaction).Certificates;
            foreach (var assignment in assignments)
            {
                if (!System.Net.IPAddress.TryParse(assignment.Address, out var ip))
                    throw new CertificateStoreException(StoreFailure.Invalid, $"'{assignment.Address}' is not an IP address; give addresses such as 192.0.2.10 or 2001:db8::10.");
                if (assignment.CertificateId is { } id)
                {
                    var certificate = certificates.FirstOrDefault(c => c.Id == id) ?? throw NotFound(id);
                    if (KeyTypeServing.Refusal(certificate.FriendlyName, certificate.Facts.KeyAlgorithm) is { } keyType)
                        throw new CertificateStoreException(StoreFailure.Invalid, $"It cannot be assigned to {ip}: {keyType}");
                    if (!certificate.HasPrivateKey)
                        throw new CertificateStoreException(StoreFailure.Invalid, $"'{certificate.FriendlyName}' has no private key on this appliance, so it cannot serve {ip}; import its private key first.");
                    if (certificate.Facts.IsCertificateAuthority)
                        throw new CertificateStoreException(StoreFailure.Invalid, $"'{certificate.FriendlyName}' is a certificate authority, not a server certificate; assign a server certificate to {ip}.");
                }
                Exec(connection, transaction, """
                    INSERT INTO address_assignments (address, certificate_id, appliance_access, site_access) VALUES ($a, $c, $x, $s)
                    ON CONFLICT (address) DO UPDATE SET certificate_id = excluded.certificate_id,
                        appliance_access = excluded.appliance_access, site_access = excluded.site_access
                    """, ("$a", Selection.SelectionSnapshot.Canonical(ip).ToString()), ("$c", assignment.CertificateId),
                    ("$x", assignment.ApplianceAccess ? 1 : 0), ("$s", assignment.SiteAccess ? 1 : 0));
            }
            transaction.Commit();
        }
        Changed?.Invoke();
    }

    /// <summary>
    /// The factory certificate's stand-in while the vault is closed (sealed by another TPM, PCR mismatch, TPM
    /// unavailable). The stored factory key is sealed like every other key, so it cannot sign handshakes then;
    /// yet the box must still answer TLS so the admin can reach the UI and read what to do. Choice: a new
    /// ECDSA P-256 key made and held in memory only, with the stored factory certificate's subject, names and
    /// notAfter, self-signed. Nothing is written: the stored factory certificate and its sealed key stay as
    /// they are and come back when the original TPM does, and no key ever sits on disk unsealed (a separate
    /// factory-only software key would have been exactly that). Clients see a new fingerprint for the factory
    /// certificate while the vault is closed; it is self-signed and untrusted either way.
    /// </summary>
    private X509Certificate2 StandInFactoryCertificate(StoredCertificate factory)
    {
        lock (_standInLock)
        {
            if (_standIn is null)
            {
                _standInKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var request = new CertificateRequest(factory.Certificate.SubjectName, _standInKey, HashAlgorithmName.SHA256);
                foreach (var extension in factory.Certificate.Extensions)
                    if (extension.Oid?.Value is not ("2.5.29.14" or "2.5.29.35")) // key identifiers belong to the stored key
                        request.CertificateExtensions.Add(extension);
                request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
                var now = _time.GetUtcNow();
                using var selfSigned = request.CreateSelfSigned(now.AddMinutes(-5), new DateTimeOffset(factory.Certificate.NotAfter.ToUniversalTime()));
                _standIn = X509CertificateLoader.LoadCertificate(selfSigned.RawData); // public part only: each caller gets its own copy with the key

            }
            return _standIn.CopyWithPrivateKey(_standInKey!);
        }
    }

    private readonly Lock _standInLock = new();
    private X509Certificate2? _standIn;
    private ECDsa? _standInKey;

    // ---------------------------------------------------------------- vault migration

    /// <summary>
    /// Whether <paramref name="vault"/> opens the stored private keys (tried on one row: all rows are sealed
    /// under the same vault key, as <see cref="ReencryptKeys"/> swaps them in one transaction); null when no key is stored.
    /// </summary>
    public static bool? OpensStoredKeys(StateDatabase database, IKeyVault vault)
    {
        database.Migrate(Module, Migrations);
        using var connection = database.Open();
        using var command = Command(connection, null, "SELECT id, sealed FROM keys ORDER BY id LIMIT 1");
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        try
        {
            CryptographicOperations.ZeroMemory(vault.Open((byte[])reader["sealed"], Encoding.ASCII.GetBytes(reader.GetString(0))));
            return true;
        }
        catch (VaultUnavailableException)
        {
            return false;
        }
    }

    /// <summary>
    /// Re-encrypts every stored private key from <paramref name="from"/> to <paramref name="to"/> in one
    /// transaction: afterwards either all rows open with <paramref name="to"/> or (on any failure) all still
    /// open with <paramref name="from"/>. Returns the number of keys re-encrypted.
    /// </summary>
    public static int ReencryptKeys(StateDatabase database, IKeyVault from, IKeyVault to)
    {
        database.Migrate(Module, Migrations);
        using var connection = database.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var rows = new List<(string Id, byte[] Sealed)>();
        using (var command = Command(connection, transaction, "SELECT id, sealed FROM keys ORDER BY id"))
        using (var reader = command.ExecuteReader())
            while (reader.Read()) rows.Add((reader.GetString(0), (byte[])reader["sealed"]));
        foreach (var (id, sealedKey) in rows)
        {
            var associatedData = Encoding.ASCII.GetBytes(id);
            var pkcs8 = from.Open(sealedKey, associatedData);
            try
            {
                Exec(connection, transaction, "UPDATE keys SET sealed = $k WHERE id = $id", ("$k", to.Seal(pkcs8, associatedData)), ("$id", id));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }
        transaction.Commit();
        return rows.Count;
    }

    // ---------------------------------------------------------------- internals

    /// <summary>The stored certificates and their entries (same order), and the keys.</summary>
    private sealed record View(IReadOnlyList<StoredCertificate> Certificates, IReadOnlyList<CertificateEntry> Entries, IReadOnlyList<StoredKey> Keys);

    /// <summary>The entry of a certificate at hand: the stored one when it is stored, so its data is not read again.</summary>
    private CertificateEntry Entry(X509Certificate2 certificate) =>
        _entries.TryGetValue(Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)), out var stored) ? stored : CertificateEntry.Parsed(certificate);

    private View LoadView(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var keys = new List<(string Id, string Hash, KeyAlgorithm Algorithm, int Size)>();
        using (var command = Command(connection, transaction, "SELECT id, public_key_sha256, algorithm, key_size FROM keys ORDER BY created_at, id"))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                keys.Add((reader.GetString(0), reader.GetString(1), ParseAlgorithm(reader.GetString(2)), reader.GetInt32(3)));

        ReadSignatureChecks(connection, transaction);
        // Each row is read into an entry once per process; a row stored before its derived data was kept (or with an
        // older version of it) is parsed here once and written back below.
        var rows = new List<(string Id, CertificateEntry Entry, string Name, string Source, bool Factory)>();
        var derived = new List<CertificateEntry>();
        using (var command = Command(connection, transaction,
                   "SELECT id, sha256, friendly_name, source, is_factory, derived_version, derived, der FROM certificates ORDER BY created_at, id"))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var sha256 = reader.GetString(1);
                if (!_entries.TryGetValue(sha256, out var entry))
                {
                    var der = reader.GetFieldValue<byte[]>(7);
                    var data = reader.GetInt32(5) == DerivedCertificateData.Version && !reader.IsDBNull(6) ? DerivedCertificateData.FromJson(reader.GetString(6)) : null;
                    if (data is null) derived.Add(entry = CertificateEntry.Parsed(X509CertificateLoader.LoadCertificate(der)));
                    else entry = CertificateEntry.Stored(der, data);
                    entry = _entries.GetOrAdd(sha256, entry);
                }
                rows.Add((reader.GetString(0), entry, reader.GetString(2), reader.GetString(3), reader.GetInt64(4) != 0));
            }

        var defaultId = GetSetting(connection, transaction, DefaultSetting);
        var bindings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        using (var command = Command(connection, transaction, "SELECT address, certificate_id FROM address_assignments WHERE certificate_id IS NOT NULL ORDER BY address"))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                if (!bindings.TryGetValue(reader.GetString(1), out var list)) bindings[reader.GetString(1)] = list = [];
                list.Add(reader.GetString(0));
            }

        var keyByHash = keys.ToDictionary(k => k.Hash, StringComparer.Ordinal);
        var entries = rows.Select(r => r.Entry).ToList();
        var chains = _chains.Build(entries);
        SaveComputed(connection, transaction, derived, _chains.TakeUnsaved(entries.Select(e => e.Sha256).ToHashSet(StringComparer.Ordinal)));
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
        return new View(certificates, entries, storedKeys);
    }

    /// <summary>Reads the signature checks kept in the database into the chain index, once per store.</summary>
    private void ReadSignatureChecks(SqliteConnection connection, SqliteTransaction? transaction)
    {
        lock (_signatureChecksLock)
        {
            if (_signatureChecksRead) return;
            using var command = Command(connection, transaction, "SELECT certificate_sha256, issuer_sha256, verified FROM signature_checks");
            using var reader = command.ExecuteReader();
            while (reader.Read()) _chains.Remember(reader.GetString(0), reader.GetString(1), reader.GetInt64(2) != 0);
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
        using (var update = Command(connection, transaction ?? own, "UPDATE certificates SET derived = $d, derived_version = $v WHERE sha256 = $s"))
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
        using (var insert = Command(connection, transaction ?? own, """
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
        using var command = Command(connection, transaction, """
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

    private void InsertKey(SqliteConnection connection, SqliteTransaction transaction, string publicKeyHash, PrivateKeyMaterial key)
    {
        var id = KeyId(publicKeyHash);
        byte[] sealedKey;
        try
        {
            sealedKey = _vault.Seal(key.Pkcs8, Encoding.ASCII.GetBytes(id));
        }
        catch (VaultUnavailableException e)
        {
            throw new CertificateStoreException(StoreFailure.KeyUnavailable, $"The private key was not stored: {e.Message}");
        }
        Exec(connection, transaction, """
            INSERT INTO keys (id, public_key_sha256, algorithm, key_size, sealed, created_at) VALUES ($id, $h, $a, $s, $k, $t)
            """, ("$id", id), ("$h", publicKeyHash), ("$a", key.Algorithm.ToString()), ("$s", key.KeySize), ("$k", sealedKey),
            ("$t", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
    }

    private PrivateKeyMaterial OpenKey(SqliteConnection connection, SqliteTransaction? transaction, string keyId)
    {
        using var command = Command(connection, transaction, "SELECT sealed FROM keys WHERE id = $id");
        command.Parameters.AddWithValue("$id", keyId);
        var sealedKey = command.ExecuteScalar() as byte[]
            ?? throw new CertificateStoreException(StoreFailure.NotFound, $"The private key '{keyId}' is no longer stored.");
        byte[] pkcs8;
        try
        {
            pkcs8 = _vault.Open(sealedKey, Encoding.ASCII.GetBytes(keyId));
        }
        catch (VaultUnavailableException e)
        {
            throw new CertificateStoreException(StoreFailure.KeyUnavailable, e.Message);
        }
        try
        {
            return KeyFactory.FromStoredPkcs8(pkcs8); // owns the plaintext from here: disposing the key zeroes it
        }
        catch (CryptographicException e)
        {
            CryptographicOperations.ZeroMemory(pkcs8);
            throw new CertificateStoreException(StoreFailure.KeyUnavailable, e.Message);
        }
    }

    private static string? KeyHash(SqliteConnection connection, SqliteTransaction transaction, string keyId)
    {
        using var command = Command(connection, transaction, "SELECT public_key_sha256 FROM keys WHERE id = $id");
        command.Parameters.AddWithValue("$id", keyId);
        return command.ExecuteScalar() as string;
    }

    private void InsertCertificate(SqliteConnection connection, SqliteTransaction transaction, string id, CertificateEntry certificate,
        string friendlyName, string source, bool isFactory)
    {
        Exec(connection, transaction, """
            INSERT INTO certificates (id, der, sha256, public_key_sha256, friendly_name, source, is_factory, created_at, derived, derived_version)
            VALUES ($id, $der, $sha, $pk, $name, $src, $f, $t, $d, $dv)
            """, ("$id", id), ("$der", certificate.Der), ("$sha", certificate.Sha256), ("$pk", certificate.Data.Facts.PublicKeySha256),
            ("$name", friendlyName), ("$src", source), ("$f", isFactory ? 1 : 0), ("$t", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)),
            ("$d", certificate.Data.ToJson()), ("$dv", DerivedCertificateData.Version));
        _entries.TryAdd(certificate.Sha256, certificate);
    }

    internal static X509Certificate2 Attach(X509Certificate2 certificate, PrivateKeyMaterial key)
    {
        if (key.Algorithm == KeyAlgorithm.Rsa)
        {
            using var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(key.Pkcs8, out _);
            return certificate.CopyWithPrivateKey(rsa);
        }
        using var ec = ECDsa.Create();
        ec.ImportPkcs8PrivateKey(key.Pkcs8, out _);
        return certificate.CopyWithPrivateKey(ec);
    }

    /// <summary>Certificate ids are the first 16 hex digits of the SHA-256 fingerprint: the same certificate is the same entry.</summary>
    internal static string CertificateId(CertificateFacts facts) => facts.Sha256Fingerprint[..16];

    internal static string KeyId(string publicKeyHash) => "k" + publicKeyHash[..16];

    private static KeyAlgorithm ParseAlgorithm(string value) => value == nameof(KeyAlgorithm.Rsa) ? KeyAlgorithm.Rsa : KeyAlgorithm.Ecdsa;

    private static string DefaultFriendlyName(CertificateFacts facts)
    {
        var name = facts.CommonName ?? facts.SubjectAlternativeNames.FirstOrDefault() ?? facts.Subject;
        name = new string(name.Where(ch => !char.IsControl(ch)).ToArray()).Trim();
        if (name.Length == 0) name = "Certificate " + facts.Sha256Fingerprint[..8];
        return name.Length > MaxFriendlyNameLength ? name[..MaxFriendlyNameLength] : name;
    }

    private static string UniqueFriendlyName(string name, IReadOnlyList<StoredCertificate> existing)
    {
        if (!existing.Any(c => string.Equals(c.FriendlyName, name, StringComparison.OrdinalIgnoreCase))) return name;
        for (var i = 2; ; i++)
        {
            var candidate = $"{name} ({i})";
            if (!existing.Any(c => string.Equals(c.FriendlyName, candidate, StringComparison.OrdinalIgnoreCase))) return candidate;
        }
    }

    internal static string ValidateFriendlyName(string? friendlyName)
    {
        var name = friendlyName?.Trim() ?? "";
        if (name.Length == 0)
            throw new CertificateStoreException(StoreFailure.Invalid, "Enter a certificate friendly name, for example the primary DNS name or the current month and year.");
        if (name.Length > MaxFriendlyNameLength)
            throw new CertificateStoreException(StoreFailure.Invalid, $"The friendly name is {name.Length} characters long; use at most {MaxFriendlyNameLength}.");
        if (name.Any(char.IsControl))
            throw new CertificateStoreException(StoreFailure.Invalid, "The friendly name contains control characters; use letters, digits, spaces and punctuation only.");
        return name;
    }

    private static string SafeFileName(string name)
    {
        var safe = new string(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray()).Trim('.');
        return safe.Length == 0 ? "certificate" : safe;
    }

    private static CertificateStoreException NotFound(string id) =>
        new(StoreFailure.NotFound, $"There is no certificate with id '{id}'; it may have been deleted. Reload the certificate list.");

    private static string? GetSetting(SqliteConnection connection, SqliteTransaction? transaction, string name)
    {
        using var command = Command(connection, transaction, "SELECT value FROM settings WHERE name = $n");
        command.Parameters.AddWithValue("$n", name);
        return command.ExecuteScalar() as string;
    }

    private static void SetSetting(SqliteConnection connection, SqliteTransaction transaction, string name, string? value) =>
        Exec(connection, transaction, "INSERT INTO settings (name, value) VALUES ($n, $v) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            ("$n", name), ("$v", value));

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static void Exec(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        command.ExecuteNonQuery();
    }
}
