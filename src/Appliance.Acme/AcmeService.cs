using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Acme.Caa;
using Appliance.Acme.Protocol;
using Appliance.Acme.Renewal;
using Appliance.Certificates.Formats;
using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;

namespace Appliance.Acme;

/// <summary>
/// ACME servers and automated certificates: registration (the account is created on submit), requests, and one
/// issuance or renewal at a time per certificate (the <see cref="RenewalScheduler"/> guarantees the "one").
/// Issued certificates go into the <see cref="CertificateStore"/> with their chain and key.
/// </summary>
public sealed class AcmeService
{
    private readonly AcmeRepository _repository;
    private readonly CertificateStore _store;
    private readonly IChallengeResponder _responder;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, RenewalInfo> _renewalInfo = new();

    public AcmeService(StateDatabase database, IKeyVault vault, CertificateStore store, IChallengeResponder responder, HttpClient http, TimeProvider time)
    {
        _repository = new AcmeRepository(database, vault);
        _store = store;
        _responder = responder;
        _http = http;
        _time = time;
    }

    internal AcmeRepository Repository => _repository;

    /// <summary>The CAA pre-check before each order; null skips it.</summary>
    public CaaCheck? Caa { get; init; }

    /// <summary>Poll interval for orders and authorizations; tests shorten it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    // ---------------------------------------------------------------- ACME servers

    public IReadOnlyList<AcmeServer> ListServers() => _repository.ListServers();

    public AcmeServer GetServer(string id) =>
        ListServers().FirstOrDefault(s => s.Id == id)
        ?? throw new AcmeSettingsException(AcmeSettingsFailure.NotFound, $"There is no ACME server with id '{id}'; it may have been deleted. Reload the list.");

    /// <summary>Validates the entry, creates the ACME account (agreeing to the terms of service) and stores both; nothing is stored when registration fails.</summary>
    public async Task<AcmeServer> RegisterServerAsync(AcmeServerSpec spec, CancellationToken cancellationToken = default)
    {
        var type = (spec.Type ?? "").Trim().ToLowerInvariant();
        if (!AcmeServerTypes.All.Contains(type))
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, $"The ACME server type '{spec.Type}' is not known; choose {string.Join(", ", AcmeServerTypes.All)}.");
        var defaults = AcmeServerTypes.Defaults(type);
        var directory = Blank(spec.DirectoryUrl) ?? defaults?.DirectoryUrl;
        if (directory is null)
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, "Enter the directory URL of the ACME server, for example https://acme.example.com/directory.");
        if (!Uri.TryCreate(directory, UriKind.Absolute, out var directoryUrl) || directoryUrl.Scheme != Uri.UriSchemeHttps)
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, $"The directory URL '{directory}' is not an https:// URL; ACME servers are reached over HTTPS only.");
        var email = Blank(spec.Email);
        if (email is not null && (email.Contains(' ') || email.IndexOf('@') is <= 0 || email.EndsWith('@')))
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, $"'{email}' is not an email address; enter the address the CA may write to about expiring certificates.");
        if (email is null && type != AcmeServerTypes.Custom)
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, "Enter an email address for the ACME account; the CA writes to it about problems with your certificates.");
        var eabKeyId = Blank(spec.EabKeyId);
        var eabHmacKey = Blank(spec.EabHmacKey);
        if ((eabKeyId is null) != (eabHmacKey is null))
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, "External account binding needs both the EAB key id and the EAB HMAC key; enter both or neither.");
        if (ListServers().Any(s => s.DirectoryUrl == directoryUrl.ToString() && s.EabKeyId == eabKeyId && s.Email == email))
            throw new AcmeSettingsException(AcmeSettingsFailure.Conflict, $"The ACME server {directoryUrl} is registered already with this email and EAB key id.");

        using var key = AcmeAccountKey.Create();
        var client = Client(directoryUrl, key, null);
        var meta = (await client.GetDirectoryAsync(cancellationToken)).Meta;
        var accountUrl = await client.RegisterAsync(email, eabKeyId is null ? null : new ExternalAccountBinding(eabKeyId, eabHmacKey!), cancellationToken);
        var server = new AcmeServer(
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), type, directoryUrl.ToString(),
            Blank(spec.Website) ?? meta?.Website ?? defaults?.Website,
            Blank(spec.TermsOfService) ?? meta?.TermsOfService ?? defaults?.TermsOfService,
            email, eabKeyId, accountUrl, meta?.Profiles?.Keys.Order(StringComparer.Ordinal).ToList() ?? [], _time.GetUtcNow());
        var pkcs8 = key.ExportPkcs8();
        try
        {
            _repository.InsertServer(server, eabHmacKey, pkcs8, key.Thumbprint);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
        return server;
    }

    /// <summary>Replaces the account key of a registered server (RFC 8555 section 7.3.5) and stores the new one sealed.</summary>
    public async Task RolloverAccountKeyAsync(string serverId, CancellationToken cancellationToken = default)
    {
        var server = GetServer(serverId);
        using var oldKey = _repository.OpenAccountKey(server.Id);
        using var newKey = AcmeAccountKey.Create();
        await Client(new Uri(server.DirectoryUrl), oldKey, server.AccountUrl).RolloverKeyAsync(newKey, cancellationToken);
        var pkcs8 = newKey.ExportPkcs8();
        try
        {
            _repository.ReplaceAccountKey(server.Id, pkcs8, newKey.Thumbprint);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    public void DeleteServer(string id)
    {
        if (!_repository.DeleteServer(id))
            throw new AcmeSettingsException(AcmeSettingsFailure.NotFound, $"There is no ACME server with id '{id}'; it may have been deleted. Reload the list.");
    }

    // ---------------------------------------------------------------- automated certificates

    public IReadOnlyList<AutomatedCertificate> ListCertificates() => _repository.ListCertificates();

    public AutomatedCertificate GetCertificate(string id) => _repository.GetCertificate(id);

    /// <summary>Records a request for an automated certificate (status pending); the scheduler orders it.</summary>
    /// <param name="preferredChain">The issuer common name of the topmost certificate of the chain to keep, when the CA offers alternate chains.</param>
    public AutomatedCertificate RequestCertificate(string? serverId, string? hostname, string? keyType, string? profile = null, string? preferredChain = null)
    {
        var (server, name, type, chosenProfile) = ValidateRequest(serverId, hostname, keyType, profile);
        var chain = Blank(preferredChain);
        if (chain is not null && (chain.Length > 256 || chain.Any(char.IsControl)))
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, "The preferred chain is the common name of the topmost issuer, such as ISRG Root X1: one line of at most 256 characters.");
        var certificate = new AutomatedCertificate(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), server.Id, name, type, chosenProfile,
            AutomatedCertificateStatus.Pending, null, null, null, "Waiting for the first order.", RenewalHistory.Empty, _time.GetUtcNow()) { PreferredChain = chain };
        _repository.InsertCertificate(certificate);
        return certificate;
    }

    /// <summary>Checks a request without recording it: the server exists, the hostname, key type and profile are usable. Returns them normalized.</summary>
    public (AcmeServer Server, string Hostname, string KeyType, string? Profile) ValidateRequest(string? serverId, string? hostname, string? keyType, string? profile = null)
    {
        var server = GetServer(serverId ?? "");
        var name = (hostname ?? "").Trim().TrimEnd('.').ToLowerInvariant();
        if (name.Length == 0)
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, "Enter the hostname the certificate is for, for example www.example.com.");
        if (name.StartsWith("*.", StringComparison.Ordinal))
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, $"'{name}' is a wildcard; wildcard certificates need the dns-01 challenge, and this appliance answers http-01 only. Enter a single hostname.");
        try
        {
            CertificateRequestFactory.NormalizeSubjectAlternativeNames(new SubjectName(null, null, null, null, null, null), [name]);
        }
        catch (CertificateRequestException e)
        {
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, e.Message);
        }
        var type = (keyType ?? "ecdsa-p256").Trim().ToLowerInvariant();
        if (!KeyFactory.KeyTypes.Contains(type))
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, $"The key type '{keyType}' is not known; choose one of {string.Join(", ", KeyFactory.KeyTypes)}.");
        var chosenProfile = Blank(profile);
        if (chosenProfile is not null && !server.Profiles.Contains(chosenProfile))
            throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, server.Profiles.Count == 0
                ? $"The ACME server offers no profiles; leave the profile empty."
                : $"The ACME server offers the profiles {string.Join(", ", server.Profiles)}; '{chosenProfile}' is not one of them.");
        return (server, name, type, chosenProfile);
    }

    public void DeleteCertificate(string id)
    {
        if (!_repository.DeleteCertificate(id))
            throw new AcmeSettingsException(AcmeSettingsFailure.NotFound, $"There is no automated certificate with id '{id}'; it may have been deleted. Reload the list.");
    }

    /// <summary>The current certificates of the automated certificates on ACME server <paramref name="serverId"/>, each with its chain.</summary>
    public IReadOnlyList<X509Certificate2> IssuedCertificatesOf(string serverId)
    {
        var stored = _store.ListCertificates().ToDictionary(c => c.Id);
        return ListCertificates().Where(c => c.ServerId == serverId && c.CertificateId is not null && stored.ContainsKey(c.CertificateId))
            .SelectMany(c => stored[c.CertificateId!].Chain.Prepend(c.CertificateId!)).Distinct()
            .Where(stored.ContainsKey).Select(id => stored[id].Certificate).ToList();
    }

    /// <summary>The stored certificate an automated certificate currently has, or null (none yet, or deleted by the admin).</summary>
    public StoredCertificate? CurrentCertificate(AutomatedCertificate certificate) =>
        certificate.CertificateId is null ? null : _store.ListCertificates().FirstOrDefault(c => c.Id == certificate.CertificateId);

    /// <summary>The renewal decision now, with the CA's renewal information when it is cached.</summary>
    public RenewalDecision Decide(AutomatedCertificate certificate, bool force = false)
    {
        var current = CurrentCertificate(certificate);
        _renewalInfo.TryGetValue(certificate.Id, out var info);
        return RenewalPolicy.Decide(current?.Facts.NotBefore, current?.Facts.NotAfter, _time.GetUtcNow(), certificate.History, info, force);
    }

    /// <summary>Fetches RFC 9773 renewal information when the CA offers it and the cached one is due again; failures keep the old one.</summary>
    public async Task RefreshRenewalInfoAsync(AutomatedCertificate certificate, CancellationToken cancellationToken)
    {
        var current = CurrentCertificate(certificate);
        if (current is null) return;
        var now = _time.GetUtcNow();
        if (_renewalInfo.TryGetValue(certificate.Id, out var cached) && now < cached.FetchedAt + (cached.RetryAfter ?? RenewalPolicy.DefaultRenewalInfoRefresh)) return;
        try
        {
            var server = GetServer(certificate.ServerId);
            using var key = _repository.OpenAccountKey(server.Id);
            var info = await Client(new Uri(server.DirectoryUrl), key, server.AccountUrl).GetRenewalInfoAsync(current.Certificate, cancellationToken);
            if (info is not null) _renewalInfo[certificate.Id] = info;
        }
        catch (Exception e) when (e is AcmeException or AcmeSettingsException or VaultUnavailableException or CryptographicException)
        {
            // RFC 9773 section 4.3: without renewal information the client falls back to its own schedule.
        }
    }

    /// <summary>Writes the decision's status and renewal time when they changed (time passing moves valid to renewing to error).</summary>
    public void ApplyDecision(AutomatedCertificate certificate, RenewalDecision decision)
    {
        if (certificate.Status == decision.Status && certificate.RenewAfter == decision.RenewAfter && certificate.Reason == decision.Reason) return;
        _repository.UpdateCertificate(certificate.Id, decision.Status, certificate.LastError, decision.RenewAfter, decision.Reason, certificate.History, null);
    }

    public void RecordAlert(AutomatedCertificate certificate, DateTimeOffset at) =>
        _repository.UpdateCertificate(certificate.Id, certificate.Status, certificate.LastError, certificate.RenewAfter, certificate.Reason,
            certificate.History with { LastAlertAt = at }, null);

    /// <summary>
    /// Orders a certificate now and stores it, replacing the previous one. A failure is recorded in the history with
    /// its words (and the server's Retry-After) and leaves the store unchanged. Callers go through the scheduler.
    /// </summary>
    internal async Task<AutomatedCertificate> IssueAsync(string id, CancellationToken cancellationToken)
    {
        var certificate = GetCertificate(id);
        var current = CurrentCertificate(certificate);
        _repository.UpdateCertificate(id, current is null ? AutomatedCertificateStatus.Pending : AutomatedCertificateStatus.Renewing,
            certificate.LastError, certificate.RenewAfter, "Ordering a certificate from the ACME server.", certificate.History, null);
        var now = _time.GetUtcNow();
        RenewalHistory history;
        string? lastError = null;
        string? issuedId = null;
        try
        {
            var server = GetServer(certificate.ServerId);
            using var accountKey = _repository.OpenAccountKey(server.Id);
            var client = Client(new Uri(server.DirectoryUrl), accountKey, server.AccountUrl);
            var directory = await client.GetDirectoryAsync(cancellationToken);
            // RFC 9773 section 5: a renewal names the certificate it replaces when the CA supports renewal information.
            var replaces = directory.RenewalInfo is not null && current is not null ? RenewalInfo.CertificateIdentifier(current.Certificate) : null;
            // CAA may have changed since the request: a renewal the records forbid is not ordered (RFC 8659; the CA would refuse it).
            if (Caa is not null && await Caa.CheckAsync(certificate.Hostname, directory.Meta?.CaaIdentities, cancellationToken) is { Outcome: CaaCheckOutcome.Refused } caa)
                throw new AcmeException(AcmeFailure.NotPossible, $"Nothing was ordered: {caa.Message}");
            using var key = KeyFactory.Generate(certificate.KeyType);
            var issued = await new AcmeIssuer(client, _responder, _time).IssueAsync(
                new IssueRequest([certificate.Hostname], key, certificate.Profile, replaces, certificate.PreferredChain), cancellationToken);
            var stored = _store.StoreIssued(issued.ChainPem, key, certificate.Hostname, certificate.CertificateId);
            issuedId = stored.Id;
            _renewalInfo.TryRemove(id, out _);
            history = certificate.History.With(new RenewalAttempt(now, true)) with { LastAlertAt = null };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Every failure is recorded, so the policy backs off instead of retrying a broken order in a tight loop.
            var acme = e as AcmeException;
            lastError = e is AcmeException or AcmeSettingsException or CertificateStoreException or CertificateRequestException
                         or CertificateImportException or VaultUnavailableException
                ? e.Message
                : $"The order failed unexpectedly ({e.GetType().Name}: {e.Message}); the appliance tries again later. Contact support if it persists.";
            history = certificate.History.With(new RenewalAttempt(now, false, e.Message, acme?.Problem?.Type,
                acme?.RetryAfter is { } wait ? _time.GetUtcNow() + wait : null));
        }
        var updated = certificate with { History = history, CertificateId = issuedId ?? certificate.CertificateId, LastError = lastError };
        var decision = Decide(updated);
        _repository.UpdateCertificate(id, decision.Status, lastError, decision.RenewAfter, decision.Reason, history, issuedId);
        return GetCertificate(id);
    }

    private AcmeClient Client(Uri directoryUrl, AcmeAccountKey key, string? accountUrl) =>
        new(_http, directoryUrl, key, accountUrl, _time) { DefaultPollInterval = PollInterval };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
