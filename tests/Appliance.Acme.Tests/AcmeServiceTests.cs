using System.Net;
using System.Security.Cryptography.X509Certificates;
using Appliance.Acme.Caa;
using Appliance.Acme.Renewal;
using Appliance.Acme.Tests.Infrastructure;
using Appliance.Certificates.Store;
using Microsoft.Data.Sqlite;

namespace Appliance.Acme.Tests;

/// <summary>Registration, automated certificates and renewal into the real store, against pebble.</summary>
[Collection(PebbleCollection.Name)]
public sealed class AcmeServiceTests(PebbleFixture peers) : IDisposable
{
    private readonly TestState _state = new();
    private readonly HttpClient _http = peers.CreateHttpClient();

    private AcmeService Service(IChallengeResponder? responder = null) =>
        new(_state.Database, _state.Vault, _state.Store, responder ?? peers.Http.Store, _http, TimeProvider.System) { PollInterval = TimeSpan.FromMilliseconds(200) };

    private static string Host() => $"s{Guid.NewGuid():N}"[..12] + ".acme.test";

    private AcmeServerSpec Custom(PebbleServer pebble, string? hmac = PebbleServer.EabHmacKey) =>
        new("custom", pebble.DirectoryUrl.ToString(), null, null, "admin@example.com", hmac is null ? null : PebbleServer.EabKeyId, hmac);

    [Fact]
    public async Task RegistersAServerWithEabAndKeepsTheAccountKeySealed()
    {
        var service = Service();
        var server = await service.RegisterServerAsync(Custom(peers.EabRequired));
        Assert.StartsWith($"https://127.0.0.1:{peers.EabRequired.Port}/my-account/", server.AccountUrl);
        Assert.Equal(PebbleServer.EabKeyId, Assert.Single(service.ListServers()).EabKeyId);

        using var connection = new SqliteConnection($"Data Source={_state.Database.Path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key_sealed, eab_hmac_key FROM acme_accounts JOIN acme_servers ON id = server_id";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        var sealedKey = (byte[])reader[0];
        Assert.Equal(1, sealedKey[0]); // vault blob format version, not a PKCS#8 SEQUENCE (0x30)
        Assert.DoesNotContain(PebbleServer.EabHmacKey, System.Text.Encoding.UTF8.GetString((byte[])reader[1]));
    }

    [Fact]
    public async Task AWrongEabKeyIsRefusedInWordsAndNothingIsStored()
    {
        var service = Service();
        var error = await Assert.ThrowsAsync<AcmeException>(() =>
            service.RegisterServerAsync(Custom(peers.EabRequired, "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH")));
        Assert.Equal(AcmeErrors.Unauthorized, error.Problem?.Type);
        Assert.Empty(service.ListServers());
    }

    [Theory]
    [InlineData("letsencrypt", null, "Enter an email address for the ACME account; the CA writes to it about problems with your certificates.")]
    [InlineData("custom", null, "Enter the directory URL of the ACME server, for example https://acme.example.com/directory.")]
    [InlineData("custom", "http://ca.example/dir", "The directory URL 'http://ca.example/dir' is not an https:// URL; ACME servers are reached over HTTPS only.")]
    [InlineData("other", null, "The ACME server type 'other' is not known; choose letsencrypt, buypass, custom.")]
    public async Task AnIncompleteServerEntryIsRefusedWithWhatToEnter(string type, string? directory, string message)
    {
        var error = await Assert.ThrowsAsync<AcmeSettingsException>(() =>
            Service().RegisterServerAsync(new AcmeServerSpec(type, directory, null, null, null, null, null)));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task AnAutomatedCertificateIsIssuedIntoTheStoreAndAForcedRenewalReplacesIt()
    {
        var service = Service();
        var scheduler = new RenewalScheduler(service, new RecordingAlerts(), TimeProvider.System);
        var server = await service.RegisterServerAsync(Custom(peers.Plain, null));
        var host = Host();
        var requested = service.RequestCertificate(server.Id, host, "ecdsa-p384");
        Assert.Equal(AutomatedCertificateStatus.Pending, requested.Status);

        var first = await scheduler.RenewNowAsync(requested.Id);
        Assert.True(first.Status == AutomatedCertificateStatus.Valid, first.LastError);
        Assert.Null(first.LastError);
        Assert.NotNull(first.RenewAfter);
        var stored = _state.Store.GetCertificate(first.CertificateId!);
        Assert.Equal(CertificateSource.Acme, stored.Source);
        Assert.True(stored.HasPrivateKey);
        Assert.Equal(host, stored.FriendlyName);
        Assert.Equal([host], stored.Facts.SubjectAlternativeNames);
        Assert.True(stored.Chain.Count >= 2, "the intermediate is stored with the leaf");
        _state.Store.SetDefault(stored.Id);

        var second = await scheduler.RenewNowAsync(requested.Id);
        Assert.Equal(AutomatedCertificateStatus.Valid, second.Status);
        Assert.NotEqual(first.CertificateId, second.CertificateId);
        var certificates = _state.Store.ListCertificates();
        Assert.DoesNotContain(certificates, c => c.Id == first.CertificateId);
        Assert.True(certificates.Single(c => c.Id == second.CertificateId).IsDefault, "the default setting moved to the renewed certificate");
        Assert.Equal(host, certificates.Single(c => c.Id == second.CertificateId).FriendlyName);
        Assert.Equal(2, service.GetCertificate(requested.Id).History.Attempts.Count(a => a.Succeeded));
    }

    [Fact]
    public async Task TheDefaultChainWithAllItsIntermediatesIsStored()
    {
        var service = Service();
        var scheduler = new RenewalScheduler(service, new RecordingAlerts(), TimeProvider.System);
        var server = await service.RegisterServerAsync(Custom(peers.LongChains, null));
        var issued = await scheduler.RenewNowAsync(service.RequestCertificate(server.Id, Host(), "rsa-2048").Id);
        var stored = _state.Store.GetCertificate(issued.CertificateId!);
        Assert.Equal(4, stored.Chain.Count);
        Assert.All(stored.Chain.Skip(1), id => Assert.True(_state.Store.GetCertificate(id).Facts.IsCertificateAuthority));
        Assert.False(stored.ChainComplete); // pebble's root is not part of the chain it sends
    }

    [Fact]
    public async Task AfterAnAccountKeyRolloverTheNewKeyOrdersAndTheOldOneIsRefused()
    {
        var service = Service();
        var server = await service.RegisterServerAsync(Custom(peers.Plain, null));
        using var oldKey = service.Repository.OpenAccountKey(server.Id);
        await service.RolloverAccountKeyAsync(server.Id);
        using var newKey = service.Repository.OpenAccountKey(server.Id);
        Assert.NotEqual(oldKey.Thumbprint, newKey.Thumbprint);

        var scheduler = new RenewalScheduler(service, new RecordingAlerts(), TimeProvider.System);
        var issued = await scheduler.RenewNowAsync(service.RequestCertificate(server.Id, Host(), "ecdsa-p256").Id);
        Assert.True(issued.Status == AutomatedCertificateStatus.Valid, issued.LastError);

        var stale = new AcmeClient(_http, peers.Plain.DirectoryUrl, oldKey, server.AccountUrl, TimeProvider.System);
        var error = await Assert.ThrowsAsync<AcmeException>(() => stale.NewOrderAsync([Appliance.Acme.Protocol.AcmeIdentifier.For(Host())], null, null));
        Assert.Equal(AcmeFailure.Refused, error.Reason);
    }

    [Fact]
    public async Task TwoRenewalsOfOneCertificateAtOnceAreOne()
    {
        var service = Service();
        var scheduler = new RenewalScheduler(service, new RecordingAlerts(), TimeProvider.System);
        var server = await service.RegisterServerAsync(Custom(peers.Plain, null));
        var requested = service.RequestCertificate(server.Id, Host(), "ecdsa-p256");
        var one = scheduler.RenewNowAsync(requested.Id);
        var two = scheduler.RenewNowAsync(requested.Id);
        Assert.Same(one, two);
        await one;
        Assert.Single(service.GetCertificate(requested.Id).History.Attempts);
    }

    [Fact]
    public async Task AnOrderThatTurnsInvalidLeavesTheErrorInWordsNoCertificateAndARetryLater()
    {
        var service = Service(new WrongAnswers(peers.Http.Store));
        var scheduler = new RenewalScheduler(service, new RecordingAlerts(), TimeProvider.System);
        var server = await service.RegisterServerAsync(Custom(peers.Plain, null));
        var before = _state.Store.ListCertificates().Count;
        var host = Host();
        var requested = service.RequestCertificate(server.Id, host, "ecdsa-p256");
        var result = await scheduler.RenewNowAsync(requested.Id);
        Assert.Equal(AutomatedCertificateStatus.Error, result.Status);
        Assert.StartsWith($"The CA could not validate {host} over http-01: ", result.LastError);
        Assert.Equal(before, _state.Store.ListCertificates().Count);
        var decision = service.Decide(result);
        Assert.Equal(RenewalAction.Wait, decision.Action);
        Assert.Contains("1 attempt failed; next try at", decision.Reason);
    }

    [Fact]
    public async Task ARequestForAWildcardOrAnUnknownKeyTypeIsRefused()
    {
        var service = Service();
        var server = await service.RegisterServerAsync(Custom(peers.Plain, null));
        Assert.Equal("'*.example.com' is a wildcard; wildcard certificates need the dns-01 challenge, and this appliance answers http-01 only. Enter a single hostname.",
            Assert.Throws<AcmeSettingsException>(() => service.RequestCertificate(server.Id, "*.example.com", "ecdsa-p256")).Message);
        Assert.Equal("The key type 'dsa-1024' is not known; choose one of rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384.",
            Assert.Throws<AcmeSettingsException>(() => service.RequestCertificate(server.Id, "a.example.com", "dsa-1024")).Message);
    }

    [Fact]
    public async Task ARenewalTheCaaRecordsForbidIsNotOrderedAndSaysWhy()
    {
        using var dns = new DnsResponder();
        dns.AddCaa("example.com", "issue", "letsencrypt.org");
        var ca = new ScriptedAcmeHandler()
            .On("GET /dir", _ => ScriptedAcmeHandler.Json(ScriptedAcmeHandler.Directory(""","meta":{"caaIdentities":["ca.test"]}""")), repeat: true)
            .On("POST /acct", _ => ScriptedAcmeHandler.Json("""{"status":"valid"}""", HttpStatusCode.Created, location: ScriptedAcmeHandler.Base + "/acct/1"));
        var service = new AcmeService(_state.Database, _state.Vault, _state.Store, new Http01ChallengeStore(), new HttpClient(ca), TimeProvider.System)
        {
            Caa = new CaaCheck(new DnsClient(new IPEndPoint(IPAddress.Loopback, dns.Port))),
        };
        var server = await service.RegisterServerAsync(new AcmeServerSpec("custom", ScriptedAcmeHandler.Base + "/dir", null, null, "admin@example.com", null, null));
        var requested = service.RequestCertificate(server.Id, "shop.example.com", "ecdsa-p256");

        var result = await new RenewalScheduler(service, new RecordingAlerts(), TimeProvider.System).RenewNowAsync(requested.Id);
        Assert.Equal(AutomatedCertificateStatus.Error, result.Status);
        Assert.Equal("Nothing was ordered: The CAA records of example.com (inherited by shop.example.com) allow only letsencrypt.org to issue certificates, "
            + "not this ACME server (ca.test). Add the DNS record example.com. CAA 0 issue \"ca.test\", or request the certificate from a CA the records allow.", result.LastError);
        Assert.DoesNotContain(ca.Requests, r => r.Route == "POST /order");
    }

    [Fact]
    public async Task ThePreferredChainIsStoredAndARenewalKeepsIt()
    {
        var service = Service();
        var scheduler = new RenewalScheduler(service, new RecordingAlerts(), TimeProvider.System);
        var server = await service.RegisterServerAsync(Custom(peers.LongChains, null));
        var alternateRoot = await peers.LongChains.RootNameAsync(1, _http);
        Assert.NotEqual(await peers.LongChains.RootNameAsync(0, _http), alternateRoot);
        var requested = service.RequestCertificate(server.Id, Host(), "ecdsa-p256", preferredChain: alternateRoot);
        Assert.Equal(alternateRoot, service.GetCertificate(requested.Id).PreferredChain);

        string? first = null;
        foreach (var _ in new[] { "issue", "renew" })
        {
            var result = await scheduler.RenewNowAsync(requested.Id);
            Assert.True(result.Status == AutomatedCertificateStatus.Valid, result.LastError);
            Assert.NotEqual(first, result.CertificateId);
            first = result.CertificateId;
            var stored = _state.Store.ListCertificates().Single(c => c.Id == result.CertificateId);
            var top = _state.Store.ListCertificates().Single(c => c.Id == stored.Chain[^1]);
            Assert.Equal(alternateRoot, top.Certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: true));
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _state.Dispose();
    }

    private sealed class WrongAnswers(IChallengeResponder inner) : IChallengeResponder
    {
        public void Publish(string token, string keyAuthorization) => inner.Publish(token, "wrong" + keyAuthorization);
        public void Withdraw(string token) => inner.Withdraw(token);
    }
}
