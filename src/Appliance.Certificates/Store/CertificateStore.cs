using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Vault;
using Appliance.Storage;

namespace Appliance.Certificates.Store;

/// <summary>
/// The certificate store as its callers see it: certificates, private keys (sealed by the vault), certificate
/// requests, the default certificate and address assignments. A thin facade: each rule lives in its own class
/// (<see cref="CertificateImport"/>, <see cref="IssuedCertificates"/>, <see cref="CertificateCreation"/>,
/// <see cref="DefaultAndDeleteRules"/>, <see cref="CertificateExport"/>, <see cref="FactoryCertificate"/>,
/// <see cref="CertificateAssignments"/>, <see cref="KeyReencryption"/>) over one <see cref="ICertificatePersistence"/>.
/// Every change is one write: a refused operation changes nothing. <see cref="Changed"/> fires after each commit
/// so the TLS selection snapshot can be rebuilt.
/// </summary>
public sealed class CertificateStore
{
    public const int MaxFilesPerImport = CertificateImport.MaxFilesPerImport;
    public const int MaxFriendlyNameLength = FriendlyNames.MaxLength;

    private readonly ICertificatePersistence _persistence;
    private readonly VaultKeys _keys;
    private readonly FactoryStandIn _standIn;
    private readonly CertificateImport _import;
    private readonly IssuedCertificates _issued;
    private readonly CertificateCreation _creation;
    private readonly DefaultAndDeleteRules _rules;
    private readonly FactoryCertificate _factory;
    private readonly CertificateAssignments _assignments;

    public CertificateStore(StateDatabase database, IKeyVault vault, TimeProvider time)
        : this(new EntryCache(), new ChainIndex(), vault, time, (entries, chains) => new SqliteCertificatePersistence(database, entries, chains, time))
    {
    }

    /// <summary>
    /// The store over another persistence (the seam a replicated store plugs into): <paramref name="persistence"/> is
    /// made with the entry cache and chain index the rules share, so every certificate is parsed once per process.
    /// </summary>
    internal CertificateStore(EntryCache entries, ChainIndex chains, IKeyVault vault, TimeProvider time,
        Func<EntryCache, ChainIndex, ICertificatePersistence> persistence)
    {
        _persistence = persistence(entries, chains);
        _keys = new VaultKeys(vault);
        _standIn = new FactoryStandIn(time);
        _import = new CertificateImport(_persistence, _keys, entries, chains);
        _issued = new IssuedCertificates(_persistence, _keys, entries);
        _creation = new CertificateCreation(_persistence, _keys, entries, time);
        _rules = new DefaultAndDeleteRules(_persistence);
        _factory = new FactoryCertificate(_persistence, _keys, entries, time);
        _assignments = new CertificateAssignments(_persistence);
    }

    /// <summary>Raised after every committed change. Handlers must be fast and must not throw.</summary>
    public event Action? Changed;

    public IKeyVault Vault => _keys.Vault;

    // ---------------------------------------------------------------- reading

    public IReadOnlyList<StoredCertificate> ListCertificates() => _persistence.Read().Certificates;

    public StoredCertificate GetCertificate(string id) => _persistence.Read().Get(id);

    public IReadOnlyList<StoredKey> ListKeys() => _persistence.Read().Keys;

    public IReadOnlyList<StoredRequest> ListRequests() => _persistence.Read().Requests;

    public StoredRequest GetRequest(string id) => _persistence.Read().GetRequest(id);

    /// <summary>The certificate assigned to each address that has a stored assignment.</summary>
    public IReadOnlyList<CertificateAssignment> ListAssignments() => _persistence.Read().Assignments;

    /// <summary>
    /// What a TLS handshake signs with: the certificate's DER and its private key as PKCS#8 (zeroed when the
    /// identity is disposed); the in-memory stand-in for the factory certificate while the vault is closed; null
    /// when the certificate has no key here or the vault is closed.
    /// </summary>
    public ServingIdentity? OpenServingIdentity(StoredCertificate certificate)
    {
        if (certificate.IsFactory && !Vault.IsOpen)
        {
            using var standIn = _standIn.For(certificate);
            using var standInKey = standIn.GetECDsaPrivateKey()!;
            return new ServingIdentity(standIn.RawData, standInKey.ExportPkcs8PrivateKey());
        }
        if (certificate.KeyId is null || !Vault.IsOpen) return null;
        var key = OpenKey(certificate.KeyId);
        return new ServingIdentity(certificate.Der.ToArray(), key.Pkcs8);
    }

    /// <summary>Builds the file <paramref name="spec"/> asks for; keys are opened only for it and zeroed after.</summary>
    public ExportedFile Export(ExportSpec spec) => CertificateExport.Export(spec, ListCertificates(), OpenKey);

    /// <summary>Why a certificate cannot be the default, or null.</summary>
    public static string? DefaultRefusal(StoredCertificate certificate) => DefaultAndDeleteRules.DefaultRefusal(certificate);

    // ---------------------------------------------------------------- changes

    /// <inheritdoc cref="CertificateImport"/>
    public ImportResult Import(IReadOnlyList<ImportFile> files, string? password, CancellationToken cancellationToken = default) =>
        Changing(() => _import.Import(files, password, cancellationToken));

    /// <inheritdoc cref="IssuedCertificates"/>
    public StoredCertificate StoreIssued(string chainPem, PrivateKeyMaterial key, string friendlyName, string? replacesCertificateId = null) =>
        GetCertificate(Changing(() => _issued.Store(chainPem, key, friendlyName, replacesCertificateId)));

    /// <summary>Creates a certificate request, or a self-signed certificate.</summary>
    public (StoredRequest? Request, StoredCertificate? Certificate) Create(CreateCertificateSpec spec)
    {
        var id = Changing(() => _creation.Create(spec));
        return spec.SelfSigned ? (null, GetCertificate(id)) : (GetRequest(id), null);
    }

    /// <summary>Sets (or with null clears) the default certificate, served when SNI is absent or matches nothing.</summary>
    public void SetDefault(string? id) => Changing(() => _rules.SetDefault(id));

    public void Delete(string id) => Changing(() => _rules.Delete(id));

    public void DeleteRequest(string id) => Changing(() => _rules.DeleteRequest(id));

    /// <inheritdoc cref="FactoryCertificate.Ensure"/>
    public StoredCertificate? EnsureFactoryCertificate(string hostName)
    {
        if (_factory.Ensure(hostName) is not { } factory) return null;
        if (factory.Made) Changed?.Invoke();
        return GetCertificate(factory.Id);
    }

    /// <inheritdoc cref="CertificateAssignments.Set"/>
    public void SetAssignments(IReadOnlyList<CertificateAssignment> assignments) => Changing(() => _assignments.Set(assignments));

    // ---------------------------------------------------------------- vault change (before the store is made)

    /// <inheritdoc cref="KeyReencryption.OpensStoredKeys"/>
    public static bool? OpensStoredKeys(StateDatabase database, IKeyVault vault) =>
        KeyReencryption.OpensStoredKeys(Persistence(database), vault);

    /// <inheritdoc cref="KeyReencryption.Reencrypt"/>
    public static int ReencryptKeys(StateDatabase database, IKeyVault from, IKeyVault to) =>
        KeyReencryption.Reencrypt(Persistence(database), from, to);

    private static SqliteCertificatePersistence Persistence(StateDatabase database) =>
        new(database, new EntryCache(), new ChainIndex(), TimeProvider.System);

    private PrivateKeyMaterial OpenKey(string keyId) => _keys.Open(keyId, _persistence.SealedKey(keyId));

    private T Changing<T>(Func<T> change)
    {
        var result = change();
        Changed?.Invoke();
        return result;
    }

    private void Changing(Action change)
    {
        change();
        Changed?.Invoke();
    }
}
