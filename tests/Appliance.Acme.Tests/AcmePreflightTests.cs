using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Acme.Preflight;
using Appliance.Acme.Tests.Infrastructure;
using static Appliance.Acme.Tests.Infrastructure.ScriptedAcmeHandler;

namespace Appliance.Acme.Tests;

/// <summary>
/// The pre-flight checks against real peers: the system resolver for 'localhost', a real HTTP listener answering the
/// challenge path from an <see cref="Http01ChallengeStore"/>, and a scripted ACME directory.
/// </summary>
public sealed class AcmePreflightTests : IDisposable
{
    private readonly ChallengeHttpServer _port80 = new();
    private readonly ScriptedAcmeHandler _ca = new();
    private readonly HttpClient _http;

    public AcmePreflightTests()
    {
        _ca.On("GET /dir", _ => Json(Directory()), repeat: true);
        _http = new HttpClient(new Router(_ca));
    }

    private static AcmeServer Server(string type = "custom", string directory = Base + "/dir") =>
        new("s1", type, directory, null, null, "admin@example.com", null, Base + "/acct/1", [], DateTimeOffset.UnixEpoch);

    private AcmePreflight Preflight(IHostnameResolver? resolver = null, int? httpPort = null, IReadOnlyList<X509Certificate2>? issued = null) =>
        new(resolver ?? new SystemHostnameResolver(), new Local(IPAddress.Loopback, IPAddress.IPv6Loopback), _port80.Store, _http, httpPort ?? _port80.Port)
        {
            IssuedBy = issued is null ? null : id => id == "s1" ? issued : throw new InvalidOperationException($"asked for server {id}"),
        };

    [Fact]
    public async Task LocalhostWithAnAnsweringPort80AndAReachableDirectoryPassesEveryCheck()
    {
        var findings = await Preflight().CheckAsync(Server(), "localhost", CancellationToken.None);
        Assert.Empty(findings);
        Assert.Equal(1, _port80.Requests);
        Assert.Equal(0, _port80.Store.Count);
    }

    [Fact]
    public async Task ForLetsEncryptTheSeedsFailoverNoteIsAlwaysAWarning()
    {
        var finding = Assert.Single(await Preflight().CheckAsync(Server("letsencrypt"), "localhost", CancellationToken.None));
        Assert.Equal(new PreflightFinding("failover", PreflightSeverity.Warning, AcmePreflight.FailoverWarning), finding);
        Assert.StartsWith("Let's Encrypt certificates are not recommended for failover pairs", finding.Message);
    }

    [Fact]
    public async Task AnUnreachableDirectoryIsARefusalInWords()
    {
        var port = ExternalTools.FreeTcpPort();
        var finding = Assert.Single(await Preflight().CheckAsync(Server(directory: $"http://127.0.0.1:{port}/dir"), "localhost", CancellationToken.None));
        Assert.Equal(("directory", PreflightSeverity.Refusal), (finding.Check, finding.Severity));
        Assert.StartsWith($"The ACME directory http://127.0.0.1:{port}/dir could not be reached (Connection refused", finding.Message);
        Assert.EndsWith("Check the appliance's DNS servers, default gateway and any proxy or firewall between it and the CA.", finding.Message);
    }

    [Fact]
    public async Task APort80ThatDoesNotAnswerIsARefusalInWords()
    {
        var port = ExternalTools.FreeTcpPort();
        var finding = Assert.Single(await Preflight(httpPort: port).CheckAsync(Server(), "localhost", CancellationToken.None));
        Assert.Equal(("http01", PreflightSeverity.Refusal), (finding.Check, finding.Severity));
        Assert.StartsWith($"Port {port} of this appliance could not be reached at http://127.0.0.1:{port}/.well-known/acme-challenge/", finding.Message);
        Assert.EndsWith($"check that the HTTP listener runs and that no firewall blocks port {port}.", finding.Message);
    }

    [Fact]
    public async Task AHostnameThatResolvesElsewhereIsAWarningNamingBothAddresses()
    {
        var finding = Assert.Single(await Preflight(new Fixed(IPAddress.Parse("192.0.2.10"))).CheckAsync(Server(), "shop.example.com", CancellationToken.None));
        Assert.Equal(new PreflightFinding("dns", PreflightSeverity.Warning,
            "shop.example.com resolves to 192.0.2.10, which is not an address of this appliance (127.0.0.1, ::1). Unless that address forwards port 80 "
            + "to this appliance (NAT), the CA cannot validate the name: point the DNS record at this appliance."), finding);
    }

    [Fact]
    public async Task AHostnameThatDoesNotResolveIsAWarningAndPort80IsStillProbed()
    {
        var finding = Assert.Single(await Preflight().CheckAsync(Server(), "no-such-host.invalid", CancellationToken.None));
        Assert.Equal(("dns", PreflightSeverity.Warning), (finding.Check, finding.Severity));
        Assert.StartsWith("no-such-host.invalid does not resolve here (", finding.Message);
        Assert.Equal(1, _port80.Requests);
    }

    /// <summary>A certificate whose Authority Information Access names these caIssuers and OCSP URLs.</summary>
    private static X509Certificate2 IssuedWith(string[] caIssuers, string[] ocsp)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=issued.example.test", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(ocsp, caIssuers));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    [Fact]
    public async Task TheIssuersCertificateAndStatusUrlsOfEarlierCertificatesMustAnswerOnTheirTcpPortOrTheCheckWarnsPerUrl()
    {
        using var listening = new TcpListener(IPAddress.Loopback, 0);
        listening.Start();
        var open = ((IPEndPoint)listening.LocalEndpoint).Port;
        var closed = ExternalTools.FreeTcpPort();
        var issued = new[]
        {
            IssuedWith([$"http://127.0.0.1:{open}/ca.crt", "ldap://ldap.example.test/cn=ca", "https://127.0.0.1:1/ignored"], [$"http://127.0.0.1:{closed}/ocsp"]),
            IssuedWith([$"http://127.0.0.1:{open}/other-path.crt"], [$"http://127.0.0.1:{closed}/ocsp-again"]),
        };
        var preflight = Preflight(issued: issued);
        var findings = await preflight.CheckAsync(Server(), "localhost", CancellationToken.None);

        var finding = Assert.Single(findings);
        Assert.Equal(("issuer", PreflightSeverity.Warning), (finding.Check, finding.Severity));
        Assert.Equal($"This appliance could not reach the issuer's status (OCSP) URL http://127.0.0.1:{closed}/ocsp on TCP port {closed} (Connection refused). "
            + $"Certificates from this CA name it, and this appliance's OCSP stapling and many clients fetch it: allow outbound TCP {closed} "
            + "to 127.0.0.1 and check the appliance's DNS servers and default gateway.", finding.Message);
    }

    [Fact]
    public async Task AServerWithNoEarlierCertificatesOrCertificatesWithoutAiaHasNoIssuerFinding()
    {
        Assert.Empty(await Preflight(issued: []).CheckAsync(Server(), "localhost", CancellationToken.None));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var plain = new CertificateRequest("CN=plain", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        Assert.Empty(Appliance.Certificates.AuthorityInformationAccess.HttpUrls(plain));
        Assert.Empty(await Preflight(issued: [plain]).CheckAsync(Server(), "localhost", CancellationToken.None));
    }

    [Fact]
    public async Task AtMostFourHostAndPortPairsAreTriedWhateverTheCertificatesName()
    {
        var many = Enumerable.Range(0, 12).Select(_ => IssuedWith([$"http://127.0.0.1:{ExternalTools.FreeTcpPort()}/ca.crt"], [])).ToList();
        Assert.Equal(12, many.SelectMany(Appliance.Certificates.AuthorityInformationAccess.HttpUrls).Count());
        var findings = await Preflight(issued: many).CheckAsync(Server(), "localhost", CancellationToken.None);
        Assert.Equal(IssuerReachability.MaxEndpoints, findings.Count);
        Assert.All(findings, f => Assert.Contains("could not reach the issuer's certificate (AIA caIssuers) URL http://127.0.0.1:", f.Message));
    }

    public void Dispose()
    {
        _http.Dispose();
        _port80.Dispose();
    }

    private sealed class Local(params IPAddress[] addresses) : ILocalAddresses
    {
        public IReadOnlyList<IPAddress> Addresses() => addresses;
    }

    private sealed class Fixed(params IPAddress[] addresses) : IHostnameResolver
    {
        public Task<IReadOnlyList<IPAddress>> ResolveAsync(string hostname, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<IPAddress>>(addresses);
    }

    /// <summary>Requests for the scripted CA's host go to it; everything else over real sockets.</summary>
    private sealed class Router(HttpMessageHandler ca) : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly HttpMessageInvoker _ca = new(ca);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.RequestUri!.Host == new Uri(Base).Host ? _ca.SendAsync(request, cancellationToken) : base.SendAsync(request, cancellationToken);
    }
}
