using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>Security :: Other Certificates :: one certificate (issue 11), read in the browser as an admin would.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CertificateDetailPageTests(BrowserFixture browser)
{
    [Fact]
    public async Task ClickingACertificatesNameShowsItsFullSubjectFingerprintsChainAddressesAndPemDownloads()
    {
        var host = CertificatesPageTests.Unique("detail") + ".test.example";
        // A root no other test imports: the chain stays incomplete whatever else the shared appliance holds.
        using var pki = OpenSslFixture.WithRootName(CertificatesPageTests.Unique("Detail Root CA"));
        string subject = $"/C=DE/ST=Bavaria/L=Munich/O=Example Detail GmbH/OU=Web Team/CN={host}";
        OpenSslFixture.Run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.Path("detail.key"), "-out", pki.Path("detail.csr"), "-subj", subject);
        // One day: Status > Basics lists the 8 certificates that expire first, and the shared appliance holds many.
        pki.SignRequest(pki.Path("detail.csr"), pki.Path("detail.crt"), [host, "www." + host], days: 1);
        string address = $"127.0.{Random.Shared.Next(100, 200)}.{Random.Shared.Next(2, 250)}";
        using (var client = await browser.Appliance.LoginAsync())
        {
            // Without the root: the chain stays incomplete, so the seed's warning shows.
            var form = new MultipartFormDataContent();
            foreach (var file in new[] { "detail.crt", "detail.key", "intermediate.crt" })
                form.Add(new ByteArrayContent(File.ReadAllBytes(pki.Path(file))), "file", file);
            var import = await client.PostAsync("certificates/import", form);
            Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());
            var id = (await Json.ReadAsync(import)).GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("commonName").GetString() == host).GetProperty("id").GetString();
            var assign = await client.PutAsJsonAsync("network/addresses", new[] { new { address, certificateId = id, applianceAccess = true, siteAccess = true } });
            Assert.True(assign.IsSuccessStatusCode, await assign.Content.ReadAsStringAsync());
        }

        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/security/certificates");
        // The row names the address the certificate is assigned to (the seed's export step picks it by that).
        await Expect(CertificatesPageTests.Row(page, host).Locator(".assigned")).ToHaveTextAsync($"Assigned to {address}");
        await CertificatesPageTests.Row(page, host).GetByRole(AriaRole.Link, new() { Name = host, Exact = true }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/appliance/security/certificates/[0-9a-f]{16}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Security :: Other Certificates :: {host}" })).ToBeVisibleAsync();
        await Expect(page.Locator("#certificate-detail .chain-warning")).ToHaveTextAsync(CertificatesPageTests.ChainWarning);
        var expected = new Dictionary<string, string>
        {
            ["Country (C)"] = "DE",
            ["State/Province (ST)"] = "Bavaria",
            ["City (Locality, L)"] = "Munich",
            ["Organization (O)"] = "Example Detail GmbH",
            ["Organizational Unit (OU)"] = "Web Team",
            ["Name (Common Name, CN)"] = host,
            ["Subject Alternative Names"] = $"{host}, www.{host}",
            ["Issued By"] = "CN=Test Intermediate CA, O=Test PKI, C=US",
            ["Serial Number"] = Colons(OpenSsl(pki, "-serial")),
            ["SHA-256 Fingerprint"] = OpenSsl(pki, "-fingerprint", "-sha256"),
            ["SHA-1 Fingerprint"] = OpenSsl(pki, "-fingerprint", "-sha1"),
            ["Valid From"] = Date(OpenSsl(pki, "-startdate")),
            ["Expiration"] = Date(OpenSsl(pki, "-enddate")),
            ["Key"] = "RSA 2048, private key on this appliance",
            ["Source"] = "Imported",
            ["Default certificate"] = "No",
            ["Assigned to"] = address,
        };
        foreach (var (term, value) in expected)
            await Expect(page.Locator($"#certificate-detail dt:text-is('{term}') + dd")).ToHaveTextAsync(value);
        var chain = page.Locator("#chain li");
        await Expect(chain).ToHaveCountAsync(2);
        await Expect(chain.Nth(0)).ToContainTextAsync(host);
        await Expect(chain.Nth(1)).ToContainTextAsync("CN=Test Intermediate CA");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Paths.Out("screenshots"), "certificate-detail.png"), FullPage = true });

        var certificatePem = await DownloadAsync(page, "Download certificate (PEM)");
        Assert.Equal([Der(File.ReadAllText(pki.Path("detail.crt")))], PemCertificates(certificatePem));
        var chainPem = await DownloadAsync(page, "Download chain (PEM)");
        Assert.Equal([Der(File.ReadAllText(pki.Path("detail.crt"))), Der(File.ReadAllText(pki.Path("intermediate.crt")))], PemCertificates(chainPem));

        // The chain's issuer is a link to its own page.
        await chain.Nth(1).GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.Locator("#certificate-detail dt:text-is('Name (Common Name, CN)') + dd")).ToHaveTextAsync("Test Intermediate CA");
        await Expect(page.Locator("#certificate-detail dt:text-is('Key') + dd")).ToHaveTextAsync("RSA 2048, no private key on this appliance");

        // From Status > Basics too, the name goes to the page.
        await page.GotoAsync("/appliance/status");
        await page.GetByRole(AriaRole.Link, new() { Name = host, Exact = true }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Security :: Other Certificates :: {host}" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task ACertificateThatIsNoLongerStoredLeadsBackToTheListInWordsAndTheSignedOutAdminToTheLogin()
    {
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/security/certificates/0123456789abcdef");
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/security/certificates$"));
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("There is no certificate with id '0123456789abcdef'; it may have been deleted.");

        var anonymous = await browser.NewPageAsync();
        var response = await anonymous.GotoAsync("/appliance/security/certificates/0123456789abcdef/chain.pem");
        await Expect(anonymous).ToHaveURLAsync(new Regex("/appliance/login"));
        Assert.DoesNotContain("BEGIN CERTIFICATE", await response!.TextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewRequestLikeThisCopiesTheSubjectAndNamesAndMakesARequestWithTheCertificatesOwnKey()
    {
        var host = CertificatesPageTests.Unique("rekey") + ".test.example";
        using var pki = OpenSslFixture.WithRootName(CertificatesPageTests.Unique("Rekey Root CA"));
        OpenSslFixture.Run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.Path("rekey.key"), "-out", pki.Path("rekey.csr"),
            "-subj", $"/C=DE/ST=Bavaria/L=Munich/O=Example Rekey GmbH/OU=Web Team/CN={host}");
        pki.SignRequest(pki.Path("rekey.csr"), pki.Path("rekey.crt"), [host, "www." + host]);
        using (var client = await browser.Appliance.LoginAsync())
        {
            var form = new MultipartFormDataContent();
            foreach (var file in new[] { "rekey.crt", "rekey.key", "intermediate.crt" })
                form.Add(new ByteArrayContent(File.ReadAllBytes(pki.Path(file))), "file", file);
            var import = await client.PostAsync("certificates/import", form);
            Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());
        }

        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/security/certificates");
        await CertificatesPageTests.Row(page, host).GetByRole(AriaRole.Link, new() { Name = host, Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "New request like this" }).ClickAsync();

        await Expect(page.GetByLabel("Certificate Friendly Name")).ToHaveValueAsync(host + " (2)");
        await Expect(page.GetByLabel("Country")).ToHaveValueAsync("DE");
        await Expect(page.GetByLabel("State/Province")).ToHaveValueAsync("Bavaria");
        await Expect(page.GetByLabel("City (Locality)")).ToHaveValueAsync("Munich");
        await Expect(page.GetByLabel("Organization", new() { Exact = true })).ToHaveValueAsync("Example Rekey GmbH");
        await Expect(page.GetByLabel("Organizational Unit")).ToHaveValueAsync("Web Team");
        await Expect(page.GetByLabel("Name (Common Name)")).ToHaveValueAsync(host);
        await Expect(page.Locator("#san-list li")).ToHaveCountAsync(2);
        await Expect(page.Locator("#san-list")).ToContainTextAsync("www." + host);
        // By id: the Remove buttons' labels ("Remove rekey-...") contain "key" too.
        await Expect(page.Locator("#key")).ToHaveValueAsync("rsa-2048");

        // The seed's re-issue with the existing key: the request carries the certificate's own public key.
        await page.Locator("#key").SelectOptionAsync(new SelectOptionValue { Label = $"Existing key of {host}" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Create Certificate Request" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Security :: Certificate Requests :: {host} (2)" })).ToBeVisibleAsync();
        await File.WriteAllTextAsync(pki.Path("again.csr"), await page.GetByLabel("Request Data").InputValueAsync());
        Assert.Equal(OpenSslFixture.Run("pkey", "-in", pki.Path("rekey.key"), "-pubout"), OpenSslFixture.Run("req", "-in", pki.Path("again.csr"), "-noout", "-pubkey"));
        var text = OpenSslFixture.Run("req", "-in", pki.Path("again.csr"), "-noout", "-text").Replace(" = ", "=");
        Assert.Contains("O=Example Rekey GmbH", text);
        Assert.Contains("DNS:www." + host, text);
    }

    [Fact]
    public async Task NewRequestLikeACertificateNoLongerStoredSaysSoInWords()
    {
        var page = await browser.LoggedInPageAsync();
        var response = await page.GotoAsync("/appliance/security/certificates/new?like=0123456789abcdef");
        Assert.Equal(404, response!.Status);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("There is no certificate with id '0123456789abcdef' to copy");
    }

    // What `openssl x509 -noout <option>` prints for the leaf, after its "name=".
    private static string OpenSsl(OpenSslFixture pki, params string[] options) =>
        OpenSslFixture.Run(["x509", "-in", pki.Path("detail.crt"), "-noout", .. options]).Trim().Split('=', 2)[1];

    private static string Colons(string hex) =>
        string.Join(':', Enumerable.Range(0, (hex.Length + 1) / 2).Select(i => hex.PadLeft(hex.Length + hex.Length % 2, '0').Substring(i * 2, 2)));

    // openssl prints "Dec  7 14:00:00 2026 GMT"; the page shows "2026-12-07 14:00:00 UTC".
    private static string Date(string openssl) =>
        DateTime.ParseExact(Regex.Replace(openssl.Replace(" GMT", "", StringComparison.Ordinal), " +", " "), "MMM d HH:mm:ss yyyy", System.Globalization.CultureInfo.InvariantCulture)
            .ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " UTC";

    private static async Task<string> DownloadAsync(IPage page, string link)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = link }).ClickAsync());
        return await File.ReadAllTextAsync((await download.PathAsync())!);
    }

    private static string Der(string pem) =>
        string.Concat(pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)));

    private static List<string> PemCertificates(string text) =>
        Regex.Matches(text, "-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", RegexOptions.Singleline).Select(m => Der(m.Value)).ToList();
}
