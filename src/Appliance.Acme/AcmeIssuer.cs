using System.Security.Cryptography.X509Certificates;
using Appliance.Acme.Protocol;
using Appliance.Certificates.Formats;

namespace Appliance.Acme;

/// <summary>What to order: the names (DNS names or IP addresses, RFC 8738), the key, and the optional profile and ARI "replaces".</summary>
public sealed record IssueRequest(
    IReadOnlyList<string> Names,
    PrivateKeyMaterial Key,
    string? Profile = null,
    string? Replaces = null,
    string? PreferredChainIssuer = null);

/// <summary>An issued certificate: the chosen chain (PEM, leaf first), the order URL and the chains offered.</summary>
public sealed record IssuedCertificate(string ChainPem, string OrderUrl, string CertificateUrl, IReadOnlyList<CertificateDownload> Chains);

/// <summary>
/// One issuance as RFC 8555 section 7.1 draws it: newOrder, http-01 for each pending authorization,
/// finalize with a CSR for the certificate key, poll, download. Challenges are withdrawn afterwards in every case.
/// </summary>
public sealed class AcmeIssuer(AcmeClient client, IChallengeResponder responder, TimeProvider time)
{
    /// <summary>How long one issuance may take in all before it is given up (and retried later by the scheduler).</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(5);

    public async Task<IssuedCertificate> IssueAsync(IssueRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Names.Count == 0) throw new ArgumentException("At least one name is needed.", nameof(request));
        var deadline = time.GetUtcNow() + Deadline;
        var identifiers = request.Names.Select(AcmeIdentifier.For).ToList();
        var (orderUrl, order) = await client.NewOrderAsync(identifiers, request.Profile, request.Replaces, cancellationToken);
        if (order.Status == "invalid") throw OrderInvalid(orderUrl, order);

        var published = new List<string>();
        try
        {
            foreach (var authorizationUrl in order.Authorizations ?? [])
            {
                // The JSON contract cannot keep a hostile server from sending null list items.
                if (authorizationUrl is null)
                    throw new AcmeException(AcmeFailure.MalformedResponse, "The ACME server's order lists an authorization without a URL; the appliance starts a new order later.");
                await AuthorizeAsync(authorizationUrl, published, deadline, cancellationToken);
            }

            // All authorizations valid: the order becomes "ready" (section 7.1.6); a server may lag, so poll for it.
            order = await client.GetOrderAsync(orderUrl, cancellationToken);
            while (order.Status == "pending")
            {
                if (time.GetUtcNow() > deadline)
                    throw new AcmeException(AcmeFailure.TimedOut, $"The order {orderUrl} stayed pending after its authorizations were valid; the appliance tries again later.");
                await Task.Delay(client.DefaultPollInterval, time, cancellationToken);
                order = await client.GetOrderAsync(orderUrl, cancellationToken);
            }
            if (order.Status == "invalid") throw OrderInvalid(orderUrl, order);
        }
        finally
        {
            foreach (var token in published) responder.Withdraw(token);
        }

        if (order.Status == "ready")
        {
            var subject = new SubjectName(null, null, null, null, null, request.Names[0].Length <= 64 ? request.Names[0] : null);
            var csr = CertificateRequestFactory.CreateRequest(subject, request.Names, request.Key);
            order = await client.FinalizeAsync(orderUrl, order, csr, deadline, cancellationToken);
        }
        if (order.Status == "invalid") throw OrderInvalid(orderUrl, order);
        if (order.Status != "valid" || order.Certificate is null)
            throw new AcmeException(AcmeFailure.MalformedResponse, $"The order {orderUrl} ended in status '{order.Status}' without a certificate URL.");

        var primary = await client.DownloadCertificateAsync(order.Certificate, cancellationToken);
        var chains = new List<CertificateDownload> { primary };
        foreach (var alternate in primary.Alternates)
            chains.Add(await client.DownloadCertificateAsync(alternate, cancellationToken));
        var chosen = ChooseChain(chains, request.PreferredChainIssuer);
        VerifyLeaf(chosen.ChainPem, request.Key, orderUrl);
        return new IssuedCertificate(chosen.ChainPem, orderUrl, order.Certificate, chains);
    }

    private async Task AuthorizeAsync(string authorizationUrl, List<string> published, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var authorization = await client.GetAuthorizationAsync(authorizationUrl, cancellationToken);
        if (authorization.Status == "valid") return; // reused authorization (section 7.1.4)
        var name = authorization.Identifier?.Value ?? authorizationUrl;
        if (authorization.Status != "pending")
            throw new AcmeException(AcmeFailure.ValidationFailed, $"The authorization for {name} is '{authorization.Status}' and cannot be completed; the appliance starts a new order later.");
        var challenge = authorization.Challenges?.FirstOrDefault(c => c?.Type == "http-01")
            ?? throw new AcmeException(AcmeFailure.NotPossible,
                $"The ACME server offers no http-01 challenge for {name} (offered: {string.Join(", ", authorization.Challenges?.Select(c => c?.Type) ?? [])}); this appliance answers http-01 only.");
        if (string.IsNullOrEmpty(challenge.Token))
            throw new AcmeException(AcmeFailure.MalformedResponse, $"The http-01 challenge for {name} has no token.");

        responder.Publish(challenge.Token, client.Key.KeyAuthorization(challenge.Token));
        published.Add(challenge.Token);
        if (challenge.Status is "pending" or null) await client.AnswerChallengeAsync(challenge.Url, cancellationToken);
        authorization = await client.WaitForAuthorizationAsync(authorizationUrl, deadline, cancellationToken);
        if (authorization.Status == "valid") return;

        var failed = authorization.Challenges?.FirstOrDefault(c => c?.Url == challenge.Url)?.Error;
        throw new AcmeException(AcmeFailure.ValidationFailed,
            $"The CA could not validate {name} over http-01: {failed?.Describe() ?? $"the authorization became '{authorization.Status}'"}. "
            + "Make sure the hostname resolves to this appliance and port 80 is reachable from the CA.", failed);
    }

    private static AcmeException OrderInvalid(string orderUrl, AcmeOrder order) =>
        new(AcmeFailure.OrderInvalid, $"The order {orderUrl} became invalid: {order.Error?.Describe() ?? "the server gave no reason"}. The appliance starts a new order later.", order.Error);

    /// <summary>The chain whose topmost issuer's common name matches the preference (like certbot's --preferred-chain), else the default one.</summary>
    internal static CertificateDownload ChooseChain(IReadOnlyList<CertificateDownload> chains, string? preferredIssuer)
    {
        if (string.IsNullOrWhiteSpace(preferredIssuer)) return chains[0];
        foreach (var chain in chains)
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPem(chain.ChainPem);
            var top = certificates[^1];
            if (string.Equals(top.GetNameInfo(X509NameType.SimpleName, forIssuer: true), preferredIssuer, StringComparison.OrdinalIgnoreCase)
                || string.Equals(top.GetNameInfo(X509NameType.SimpleName, forIssuer: false), preferredIssuer, StringComparison.OrdinalIgnoreCase))
                return chain;
        }
        return chains[0];
    }

    private static void VerifyLeaf(string chainPem, PrivateKeyMaterial key, string orderUrl)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(chainPem);
        if (certificates.Count == 0 || !certificates[0].PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.SubjectPublicKeyInfo))
            throw new AcmeException(AcmeFailure.MalformedResponse, $"The certificate issued for order {orderUrl} does not carry the requested key; it was not stored.");
    }
}
