using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Appliance.Tests.Hostile;

/// <summary>The state directory on a small ext4 file system that the test fills, through the published binary.</summary>
public sealed partial class FullDiskTests : IAsyncLifetime
{
    private SmallFileSystem _disk = null!;
    private ApplianceProcess? _appliance;

    public ValueTask InitializeAsync()
    {
        _disk = new SmallFileSystem(mebibytes: 16);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
        _disk?.Dispose();
    }

    [Fact]
    public async Task AFullStatePartitionRefusesChangesWith507WhileReadsLoginAndPagesWorkAndNothingAcknowledgedIsLost()
    {
        var state = Path.Combine(_disk.Directory, "state");
        _appliance = await ApplianceProcess.StartAsync(state);
        using var admin = await _appliance.LoginAsync();
        var acknowledged = new List<string>();
        for (var i = 0; i < 3; i++) acknowledged.Add(await ImportAsync(admin, i) ?? throw new InvalidOperationException("An import failed before the disk was full."));

        _disk.Fill();
        HttpResponseMessage? refused = null;
        for (var i = 3; i < 200 && refused is null; i++)
        {
            var response = await admin.PostAsync("certificates/import", Upload(i));
            if (response.IsSuccessStatusCode) acknowledged.Add(IdOf(await Json.ReadAsync(response)));
            else refused = response;
        }
        Assert.NotNull(refused);
        Assert.Equal(507, (int)refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(refused);
        Assert.Equal(507, problem.GetProperty("status").GetInt32());
        Assert.Matches(@"^The state partition is full \(\d+ (bytes|KiB) free of 1\d\.\d MiB\); nothing was changed\. Delete unused certificates",
            problem.GetProperty("detail").GetString());

        // Reads: status with the partition's figures and the warning.
        var status = await admin.GetAsync("status");
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        var partition = (await Json.ReadAsync(status)).GetProperty("statePartition");
        Assert.InRange(partition.GetProperty("totalBytes").GetInt64(), 12L << 20, 16L << 20);
        Assert.InRange(partition.GetProperty("freeBytes").GetInt64(), 0, 64 * 1024);
        Assert.True(partition.GetProperty("usedPercent").GetDouble() >= 99, partition.ToString());
        Assert.StartsWith("The state partition is ", partition.GetProperty("warning").GetString());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("certificates")).StatusCode);

        // Login through the API and through the login page; the pages render.
        using var again = await _appliance.LoginAsync();
        var listed = (await Json.ReadAsync(await again.GetAsync("certificates"))).EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.All(acknowledged, id => Assert.Contains(id, listed));
        using var browser = _appliance.Client();
        var site = $"https://127.0.0.1:{_appliance.HttpsPort}/appliance";
        var loginPage = await browser.GetStringAsync(site + "/login");
        var token = AntiforgeryField().Match(loginPage);
        Assert.True(token.Success, loginPage);
        var login = await browser.PostAsync(site + "/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [token.Groups["name"].Value] = WebUtility.HtmlDecode(token.Groups["value"].Value),
            ["username"] = "admin", ["password"] = ApplianceProcess.AdminPassword, ["returnUrl"] = "/appliance/status",
        }));
        Assert.Equal(HttpStatusCode.SeeOther, login.StatusCode);
        foreach (var page in new[] { "/status", "/security/certificates", "/audit", "/users", "/networking", "/email" })
        {
            var response = await browser.GetAsync(site + page);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{page} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        var statusPage = await browser.GetStringAsync(site + "/status");
        Assert.Contains("id=\"storage-warning\"", statusPage);

        // Space comes back: the import succeeds, and after a restart everything acknowledged is there.
        File.Delete(_disk.FillerPath);
        acknowledged.Add(await ImportAsync(admin, 1000) ?? throw new InvalidOperationException("The import failed after the filler was deleted."));
        await _appliance.DisposeAsync();
        _appliance = await ApplianceProcess.StartAsync(state);
        using var afterRestart = await _appliance.LoginAsync();
        var kept = (await Json.ReadAsync(await afterRestart.GetAsync("certificates"))).EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.All(acknowledged, id => Assert.Contains(id, kept));
        var audit = (await Json.ReadAsync(await afterRestart.GetAsync("audit?limit=1000"))).GetProperty("entries").EnumerateArray().ToList();
        Assert.Contains(audit, e => e.GetProperty("status").GetInt32() == 507); // kept in memory while full, stored once space was back
    }

    private static async Task<string?> ImportAsync(HttpClient client, int index)
    {
        var response = await client.PostAsync("certificates/import", Upload(index));
        return response.IsSuccessStatusCode ? IdOf(await Json.ReadAsync(response)) : null;
    }

    private static string IdOf(JsonElement imported) =>
        imported.GetProperty("certificates").EnumerateArray().Single().GetProperty("id").GetString()!;

    /// <summary>A new self-signed certificate (no key) as a PEM upload.</summary>
    private static MultipartFormDataContent Upload(int index)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=full{index}.example, O=Full Disk Test", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
        var part = new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent { { part, "file", $"full{index}.pem" } };
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]+)\">")]
    private static partial Regex AntiforgeryField();
}
