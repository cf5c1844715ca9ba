using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Appliance.Acme.Caa;
using Appliance.Acme.Protocol;

namespace Appliance.Acme.Preflight;

/// <summary>Name resolution as the appliance sees it (the <see cref="Dns"/> seam).</summary>
public interface IHostnameResolver
{
    /// <summary>The addresses of <paramref name="hostname"/>; throws <see cref="SocketException"/> when it does not resolve.</summary>
    Task<IReadOnlyList<IPAddress>> ResolveAsync(string hostname, CancellationToken cancellationToken);
}

/// <summary>The addresses configured on this appliance's interfaces (the SystemFacts seam). Must be fast.</summary>
public interface ILocalAddresses
{
    IReadOnlyList<IPAddress> Addresses();
}

public sealed class SystemHostnameResolver : IHostnameResolver
{
    public async Task<IReadOnlyList<IPAddress>> ResolveAsync(string hostname, CancellationToken cancellationToken) =>
        await Dns.GetHostAddressesAsync(hostname, cancellationToken);
}

public enum PreflightSeverity { Warning, Refusal }

/// <summary>One pre-flight finding: which check, whether it refuses the request, and what to do in words.</summary>
public sealed record PreflightFinding(string Check, PreflightSeverity Severity, string Message)
{
    /// <summary>Why the request for <paramref name="hostname"/> is refused, every refusal in words; null when none refuses.</summary>
    public static string? Refusal(string hostname, IReadOnlyList<PreflightFinding> findings) =>
        findings.Any(f => f.Severity == PreflightSeverity.Refusal)
            ? $"The certificate for {hostname} was not requested: "
              + string.Join(" ", findings.Where(f => f.Severity == PreflightSeverity.Refusal).Select(f => f.Message))
            : null;
}

/// <summary>
/// What is checked before an automated certificate is requested, so the admin learns of a problem in words at once
/// instead of from a failed order minutes later: the ACME directory is reachable (refusal otherwise); port 80 of this
/// appliance answers the http-01 challenge path (RFC 8555 section 8.3) from itself (refusal otherwise); the hostname
/// resolves to an address of this appliance (a warning otherwise: the CA resolves with public DNS, which may differ,
/// e.g. behind NAT); with a <see cref="CaaCheck"/>, the hostname's CAA records allow the CA named by the directory's
/// meta.caaIdentities (refusal otherwise; a warning when they could not be checked); the issuer's certificate (AIA) and
/// status (OCSP) URLs named in the certificates this ACME server issued before answer on their TCP port, 80 for http (a
/// warning otherwise: the seed's outbound TCP 80 to the CA; the first request from a server has none to check); and, for
/// Let's Encrypt, the seed's note that its certificates are not recommended for failover pairs.
/// </summary>
/// <param name="probeAddress">The HTTP listener's bind address when it binds one address only (port 80 is probed there); null when it binds all.</param>
/// <param name="caa">The CAA pre-check; null skips it.</param>
public sealed class AcmePreflight(IHostnameResolver resolver, ILocalAddresses local, Http01ChallengeStore challenges, HttpClient http, int httpPort,
    IPAddress? probeAddress = null, CaaCheck? caa = null)
{
    public const string DirectoryCheck = "directory";
    public const string Port80Check = "http01";
    public const string DnsCheck = "dns";
    public const string FailoverCheck = "failover";
    public const string CaaCheckName = "caa";
    public const string IssuerCheck = "issuer";

    /// <summary>Every check name a finding can carry, in the order the checks run.</summary>
    public static readonly IReadOnlyList<string> Checks = [DirectoryCheck, CaaCheckName, DnsCheck, Port80Check, IssuerCheck, FailoverCheck];
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The certificates (leaf and chain) the ACME server with this id issued before; null skips the issuer URL check.</summary>
    public Func<string, IReadOnlyList<X509Certificate2>>? IssuedBy { get; init; }

    public const string FailoverWarning =
        "Let's Encrypt certificates are not recommended for failover pairs: DNS can point the hostname at only one appliance at a time, "
        + "and the appliance that requests or renews the certificate must hold that hostname. Use a certificate from your CA on failover pairs.";

    public async Task<IReadOnlyList<PreflightFinding>> CheckAsync(AcmeServer server, string hostname, CancellationToken cancellationToken)
    {
        var findings = new List<PreflightFinding>();
        var (directoryFinding, directory) = await CheckDirectoryAsync(server.DirectoryUrl, cancellationToken);
        if (directoryFinding is not null) findings.Add(directoryFinding);
        if (caa is not null && directory is not null)
        {
            var result = await caa.CheckAsync(hostname, directory.Meta?.CaaIdentities, cancellationToken);
            if (result.Outcome == CaaCheckOutcome.Refused) findings.Add(Refusal(CaaCheckName, result.Message!));
            else if (result.Outcome == CaaCheckOutcome.NotChecked) findings.Add(Warning(CaaCheckName, result.Message!));
        }
        var (dns, ours) = await CheckResolutionAsync(hostname, cancellationToken);
        if (dns is not null) findings.Add(dns);
        if (await CheckPort80Async(ours, cancellationToken) is { } port80) findings.Add(port80);
        if (IssuedBy is not null) findings.AddRange(await IssuerReachability.CheckAsync(IssuedBy(server.Id), cancellationToken));
        if (server.Type == AcmeServerTypes.LetsEncrypt) findings.Add(new PreflightFinding(FailoverCheck, PreflightSeverity.Warning, FailoverWarning));
        return findings;
    }

    /// <returns>The finding (null when the directory answers) and the directory when it could be read as one.</returns>
    internal async Task<(PreflightFinding? Finding, AcmeDirectory? Directory)> CheckDirectoryAsync(string directoryUrl, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var response = await http.GetAsync(directoryUrl, timeout.Token);
            if (response.IsSuccessStatusCode) return (null, await ReadDirectoryAsync(response, timeout.Token));
            return (Refusal(DirectoryCheck, $"The ACME directory {directoryUrl} answered {(int)response.StatusCode} {response.ReasonPhrase}. "
                + "Check the ACME server's directory URL, or try again later if the CA is down."), null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var why = e is OperationCanceledException ? $"no answer within {ProbeTimeout.TotalSeconds:0} s" : Innermost(e);
            return (Refusal(DirectoryCheck, $"The ACME directory {directoryUrl} could not be reached ({why}). "
                + "Check the appliance's DNS servers, default gateway and any proxy or firewall between it and the CA."), null);
        }
    }

    /// <summary>The directory object, or null when the answer is not one (the order itself reports that in words).</summary>
    private static async Task<AcmeDirectory?> ReadDirectoryAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken), AcmeJson.Default.AcmeDirectory);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <returns>The finding (null when the name resolves to this appliance) and the resolved addresses of this appliance.</returns>
    internal async Task<(PreflightFinding? Finding, IReadOnlyList<IPAddress> Ours)> CheckResolutionAsync(string hostname, CancellationToken cancellationToken)
    {
        var mine = local.Addresses();
        IReadOnlyList<IPAddress> addresses;
        if (IPAddress.TryParse(hostname, out var literal)) addresses = [literal];
        else
        {
            try
            {
                addresses = await resolver.ResolveAsync(hostname, cancellationToken);
            }
            catch (SocketException e)
            {
                return (Warning(DnsCheck, $"{hostname} does not resolve here ({e.Message}). The CA looks the name up in public DNS and connects "
                    + "to port 80 of that address: create an A or AAAA record for it pointing at this appliance before requesting."), []);
            }
        }
        var ours = addresses.Where(a => mine.Any(m => Same(m, a))).ToList();
        if (ours.Count > 0) return (null, ours);
        if (addresses.Count == 0)
            return (Warning(DnsCheck, $"{hostname} has no addresses here. Create an A or AAAA record pointing at this appliance."), []);
        return (Warning(DnsCheck, $"{hostname} resolves to {string.Join(", ", addresses)}, which is not an address of this appliance "
            + $"({(mine.Count == 0 ? "none configured" : string.Join(", ", mine))}). Unless that address forwards port 80 to this appliance (NAT), "
            + "the CA cannot validate the name: point the DNS record at this appliance."), []);
    }

    /// <summary>Publishes a one-time probe token and fetches it from this appliance's port 80, as the CA would.</summary>
    internal async Task<PreflightFinding?> CheckPort80Async(IReadOnlyList<IPAddress> addresses, CancellationToken cancellationToken)
    {
        var token = Base64Url(RandomNumberGenerator.GetBytes(24));
        var answer = "preflight." + Base64Url(RandomNumberGenerator.GetBytes(24));
        // A listener bound to one address is probed there; otherwise at the hostname's own address (IPv4 first), else loopback.
        var target = probeAddress ?? addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetworkV6).FirstOrDefault() ?? IPAddress.Loopback;
        var url = $"http://{(target.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{target}]" : target.ToString())}:{httpPort}{Http01ChallengeStore.PathPrefix}{token}";
        challenges.Publish(token, answer);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var response = await http.GetAsync(url, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if (response.IsSuccessStatusCode && body == answer) return null;
            return Refusal(Port80Check, $"Port {httpPort} of this appliance ({url}) did not answer the challenge path correctly "
                + $"(HTTP {(int)response.StatusCode}). Something else answers there; make sure the appliance's HTTP listener owns port {httpPort}.");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var why = e is OperationCanceledException ? $"no answer within {ProbeTimeout.TotalSeconds:0} s" : Innermost(e);
            return Refusal(Port80Check, $"Port {httpPort} of this appliance could not be reached at {url} ({why}). The CA validates the name "
                + $"over HTTP on port 80: check that the HTTP listener runs and that no firewall blocks port {httpPort}.");
        }
        finally
        {
            challenges.Withdraw(token);
        }
    }

    private static bool Same(IPAddress a, IPAddress b) =>
        (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(b.IsIPv4MappedToIPv6 ? b.MapToIPv4() : b);

    internal static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static PreflightFinding Refusal(string check, string message) => new(check, PreflightSeverity.Refusal, message);

    private static PreflightFinding Warning(string check, string message) => new(check, PreflightSeverity.Warning, message);
}
