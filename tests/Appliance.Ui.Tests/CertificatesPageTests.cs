using System.Text.RegularExpressions;
using Appliance.Tests;
using static Microsoft.Playwright.Assertions;

namespace Appliance.Ui.Tests;

/// <summary>The seed workflows of Security > Certificates, done in the browser as an admin would.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CertificatesPageTests(BrowserFixture browser, OpenSslFixture pki)
{
    internal const string ChainWarning = "The certificate chain appears to be missing one or more certificate authorities and does not appear to terminate in a self-signed certificate";

    internal static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    internal static ILocator Row(IPage page, string friendlyName) =>
        page.Locator("#other-certificates tbody tr").Filter(new() { Has = page.GetByText(friendlyName, new() { Exact = true }) });

    internal static async Task ImportAsync(IPage page, string? password, params string[] files)
    {
        await page.GotoAsync("/appliance/security/certificates");
        await page.GetByRole(AriaRole.Link, new() { Name = "Import", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security :: Certificates :: Import" })).ToBeVisibleAsync();
        await page.Locator("#file").SetInputFilesAsync(files);
        if (password is not null) await page.GetByLabel("Password").FillAsync(password);
        // Wait for the answer to the upload: a caller that navigates at once would abort the POST.
        await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Upload" }).ClickAsync(),
            response => response.Request.Method == "POST" && response.Url.Contains("/certificates/import", StringComparison.Ordinal));
    }

    /// <summary>The New Certificate form with a friendly name and common name only, then one of its two create buttons.</summary>
    private static async Task CreateAsync(IPage page, string name, string button, string? subjectAlternativeName = null)
    {
        await page.GotoAsync("/appliance/security/certificates/new");
        await page.GetByLabel("Certificate Friendly Name").FillAsync(name);
        await page.GetByLabel("Name (Common Name)").FillAsync(name + ".test.example");
        if (subjectAlternativeName is not null) await page.GetByLabel("New subject alternative name").FillAsync(subjectAlternativeName);
        await page.GetByRole(AriaRole.Button, new() { Name = button }).ClickAsync();
    }

    private static async Task ApplyAsync(IPage page, string action, params string[] friendlyNames)
    {
        await page.GotoAsync("/appliance/security/certificates");
        foreach (var name in friendlyNames) await Row(page, name).GetByRole(AriaRole.Checkbox).CheckAsync();
        await page.Locator("#other-certificates select[name=action]").SelectOptionAsync(action);
        await page.Locator("#other-certificates").GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
    }

    [Fact]
    public async Task TheChainWarningShowsUntilTheRootIsImportedAndThenTheCertificateCanBeTheDefault()
    {
        var host = Unique("chain") + ".test.example";
        var rootName = Unique("Root CA");
        using var ownPki = OpenSslFixture.WithRootName(rootName); // a root no other test imports, with a name no other row has
        ownPki.MakeLeaf("leaf", host, [host]);
        var page = await browser.LoggedInPageAsync();

        await ImportAsync(page, null, ownPki.Path("leaf.crt"), ownPki.Path("leaf.key"), ownPki.Path("intermediate.crt"));
        await Expect(page).ToHaveURLAsync(new Regex("/appliance/security/certificates$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Imported 2 certificates");
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync(ChainWarning);
        var row = Row(page, host);
        // The seed's columns, and its warning beneath the certificate's name (once, not again under Warnings).
        await Expect(page.Locator("#other-certificates thead th")).ToHaveTextAsync(["Select", "Friendly name", "Issued To", "Issued By", "Alternative Name(s)", "Expiration", "Key", "Warnings", "Default"]);
        await Expect(row.Locator("td").Nth(1).Locator(".chain-warning")).ToHaveTextAsync(ChainWarning);
        await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(host);
        await Expect(row.Locator("td").Nth(3)).ToContainTextAsync("CN=Test Intermediate CA");
        await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync(host);
        await Expect(row.Locator("td").Nth(7)).Not.ToContainTextAsync(ChainWarning);

        await ImportAsync(page, null, ownPki.Path("root.crt"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Imported 1 certificate");
        await Expect(Row(page, host)).Not.ToContainTextAsync(ChainWarning);
        await Expect(Row(page, rootName)).ToContainTextAsync("Self-signed (root CA)");

        await Row(page, host).GetByRole(AriaRole.Radio).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Set Default" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"'{host}' is now the default certificate");
        await Expect(Row(page, host).GetByRole(AriaRole.Radio)).ToBeCheckedAsync();

        // The factory certificate cannot be the default: its radio button is disabled and says why.
        var factory = Row(page, "Factory certificate").GetByRole(AriaRole.Radio);
        await Expect(factory).ToBeDisabledAsync();
        await Expect(factory).ToHaveAttributeAsync("title", new Regex("factory certificate, which cannot be the default"));

        // The default certificate is not deleted: the refusal is shown in words and the row stays.
        await ApplyAsync(page, "delete", host);
        await Expect(page.Locator("table")).ToContainTextAsync("default certificate: choose another default first");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Nothing was deleted.");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("is in use and was not deleted: it is the default certificate");
        await Expect(Row(page, host)).ToHaveCountAsync(1);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ACertificateRequestShowsItsRequestDataAndTheSignedCertificateCompletesIt()
    {
        var name = Unique("csr");
        var host = name + ".test.example";
        var page = await browser.LoggedInPageAsync();
        await page.GotoAsync("/appliance/security/certificates");
        await page.GetByRole(AriaRole.Link, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security :: Certificates :: New Certificate" })).ToBeVisibleAsync();

        await page.GetByLabel("Certificate Friendly Name").FillAsync(name);
        await Expect(page.Locator("#key-hint")).ToContainTextAsync("RSA 4096 costs several times the CPU of RSA 2048");
        await Expect(page.Locator("#country-hint")).ToContainTextAsync("ISO 3166 two-letter country code");
        await Expect(page.Locator("#common-name-hint")).ToContainTextAsync("list every name there too");
        await page.GetByLabel("Key").SelectOptionAsync(new SelectOptionValue { Label = "New key: ECDSA P-256" });
        await page.GetByLabel("Country").FillAsync("US");
        await page.GetByLabel("State/Province").FillAsync("Oregon");
        await page.GetByLabel("City (Locality)").FillAsync("Portland");
        await page.GetByLabel("Organization", new() { Exact = true }).FillAsync("Example Corp");
        await page.GetByLabel("Organizational Unit").FillAsync("IT");
        await page.GetByLabel("Name (Common Name)").FillAsync("Example support site");
        // Without JavaScript, Add re-renders the form with the name in the list; the other fields are kept.
        await page.GetByLabel("New subject alternative name").FillAsync(host);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(page.Locator("#san-list")).ToContainTextAsync(host);
        await page.GetByLabel("New subject alternative name").FillAsync("www." + host);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add", Exact = true }).ClickAsync();
        await Expect(page.Locator("#san-list li")).ToHaveCountAsync(2);
        await Expect(page.GetByLabel("Certificate Friendly Name")).ToHaveValueAsync(name);

        await page.GetByRole(AriaRole.Button, new() { Name = "Create Certificate Request" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Security :: Certificate Requests :: {name}" })).ToBeVisibleAsync();
        var requestData = await page.GetByLabel("Request Data").InputValueAsync();
        Assert.StartsWith("-----BEGIN CERTIFICATE REQUEST-----", requestData);

        // The request is listed; its subject opens the detail view again.
        await page.GotoAsync("/appliance/security/certificates");
        await page.Locator("#certificate-requests").GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        Assert.Equal(requestData, await page.GetByLabel("Request Data").InputValueAsync());

        // The CA signs it; importing the certificate with its chain completes the request.
        var csr = pki.Path(name + ".csr");
        await File.WriteAllTextAsync(csr, requestData);
        var text = OpenSslFixture.Run("req", "-in", csr, "-noout", "-text");
        Assert.Contains("www." + host, text);
        Assert.Contains("O=Example Corp", text.Replace(" = ", "="));
        pki.SignRequest(csr, pki.Path(name + ".crt"), [host, "www." + host]);
        await ImportAsync(page, null, pki.Path(name + ".crt"), pki.Path("intermediate.crt"), pki.Path("root.crt"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"The certificate completes the certificate request '{name}'.");
        var row = Row(page, name);
        await Expect(row).ToContainTextAsync("ECDSA 256");
        await Expect(row).Not.ToContainTextAsync(ChainWarning);
        await Expect(row.GetByRole(AriaRole.Radio)).ToBeEnabledAsync();

        // The issued request stays listed (the seed's renewal copies its Request Data again), marked Issued and linked to
        // the certificate it produced.
        var requestRow = page.Locator("#certificate-requests tr").Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = name }) });
        await Expect(requestRow).ToContainTextAsync("Issued");
        await requestRow.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        Assert.Equal(requestData, await page.GetByLabel("Request Data").InputValueAsync());
        await page.GetByRole(AriaRole.Link, new() { Name = "the certificate is imported" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Security :: Other Certificates :: {name}" })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ASelfSignedCertificateIsCreatedAndCannotBeTheDefault()
    {
        var name = Unique("selfsigned");
        var page = await browser.LoggedInPageAsync();
        await CreateAsync(page, name, "Create Self-Signed Certificate", name + ".test.example");
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"The self-signed certificate '{name}' is created.");
        var row = Row(page, name);
        await Expect(row).ToContainTextAsync("Self-signed");
        await Expect(row).ToContainTextAsync("RSA 2048");
        await Expect(row.GetByRole(AriaRole.Radio)).ToBeDisabledAsync();
        await Expect(row.GetByRole(AriaRole.Radio)).ToHaveAttributeAsync("title", new Regex("self-signed certificate cannot be the default"));

        // Bad input changes nothing: the same friendly name again is refused in words, the form keeps its input.
        await page.GotoAsync("/appliance/security/certificates/new");
        await page.GetByLabel("Certificate Friendly Name").FillAsync(name);
        await page.GetByLabel("Name (Common Name)").FillAsync("other.test.example");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create Self-Signed Certificate" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"The friendly name '{name}' is already used");
        await Expect(page.GetByLabel("Name (Common Name)")).ToHaveValueAsync("other.test.example");
        await page.GotoAsync("/appliance/security/certificates");
        await Expect(Row(page, name)).ToHaveCountAsync(1);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task OneCertificateExportsWithItsKeyUnderAPassphraseAndOpensWithOpenssl()
    {
        var host = Unique("export") + ".test.example";
        pki.MakeLeaf(host, host, [host]);
        var page = await browser.LoggedInPageAsync();
        await ImportAsync(page, null, pki.Path(host + ".crt"), pki.Path(host + ".key"), pki.Path("intermediate.crt"), pki.Path("root.crt"));
        await Expect(Row(page, host)).ToHaveCountAsync(1);

        await ApplyAsync(page, "export", host);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security :: Certificates :: Export" })).ToBeVisibleAsync();
        await Expect(page.Locator(".notice.warn")).ToContainTextAsync("The private key should never, or rarely, be exported");
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Private key", Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Certificate chain" }).CheckAsync();

        // As PKCS#12 without a passphrase the key is not exported: the page says why.
        await page.GetByLabel("Format").SelectOptionAsync("pkcs12");
        await page.GetByRole(AriaRole.Button, new() { Name = "Export", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("passphrase of at least 8 characters");

        const string passphrase = "export passphrase 1";
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Private key", Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Certificate chain" }).CheckAsync();
        await page.GetByLabel("Passphrase for the private key").FillAsync(passphrase);
        await page.GetByLabel("Format").SelectOptionAsync("pkcs12");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Export", Exact = true }).ClickAsync());
        Assert.EndsWith(".p12", download.SuggestedFilename);
        var file = pki.Path(host + ".export.p12");
        await download.SaveAsAsync(file);

        var opened = OpenSslFixture.Run("pkcs12", "-in", file, "-passin", "pass:" + passphrase, "-nodes");
        Assert.Contains("-----BEGIN PRIVATE KEY-----", opened);
        Assert.Contains("CN=" + host, opened.Replace(" = ", "="));
        Assert.Contains("CN=Test Intermediate CA", opened.Replace(" = ", "="));
        Assert.Throws<InvalidOperationException>(() => OpenSslFixture.Run("pkcs12", "-in", file, "-passin", "pass:wrong passphrase", "-nodes"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AKeyExportedWithoutAPassphraseTakesASeparateConfirmationAndTheAuditLogSaysItLeftInClear()
    {
        var host = Unique("clear") + ".test.example";
        pki.MakeLeaf(host, host, [host]);
        var page = await browser.LoggedInPageAsync();
        await ImportAsync(page, null, pki.Path(host + ".crt"), pki.Path(host + ".key"), pki.Path("intermediate.crt"), pki.Path("root.crt"));
        await ApplyAsync(page, "export", host);
        var confirmation = page.Locator("#unencrypted-confirmation");

        // PEM without a passphrase: no file yet, a separate step that says what it means.
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Private key", Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Export", Exact = true }).ClickAsync();
        await Expect(confirmation).ToContainTextAsync("without a passphrase?");
        await Expect(confirmation.GetByRole(AriaRole.Alert)).ToContainTextAsync("Anyone who gets the file");

        // Confirming without ticking "I understand" exports nothing.
        await page.GetByRole(AriaRole.Button, new() { Name = "Export without a passphrase" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The private key was not exported: tick \"I understand\"");

        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Private key", Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Export", Exact = true }).ClickAsync();
        await page.GetByLabel("I understand: export the private key unencrypted").CheckAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Export without a passphrase" }).ClickAsync());
        Assert.EndsWith(".pem", download.SuggestedFilename);
        var file = pki.Path(host + ".clear.pem");
        await download.SaveAsAsync(file);
        var pem = File.ReadAllText(file);
        Assert.Contains("-----BEGIN PRIVATE KEY-----", pem);
        Assert.DoesNotContain("ENCRYPTED", pem);
        Assert.Equal(OpenSslFixture.Run("pkey", "-in", pki.Path(host + ".key"), "-pubout"), OpenSslFixture.Run("pkey", "-in", file, "-pubout"));

        await page.GotoAsync("/appliance/audit");
        await Expect(page.Locator("table").First).ToContainTextAsync("PRIVATE KEY UNENCRYPTED (no passphrase; the admin confirmed the export in clear)");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SeveralCertificatesExportAsOnePkcs7File()
    {
        var first = Unique("p7a") + ".test.example";
        var second = Unique("p7b") + ".test.example";
        pki.MakeLeaf(first, first, [first]);
        pki.MakeLeaf(second, second, [second]);
        var page = await browser.LoggedInPageAsync();
        await ImportAsync(page, null, pki.Path(first + ".crt"), pki.Path(second + ".crt"));
        await ApplyAsync(page, "export", first, second);
        await page.GetByLabel("Export all as one PKCS#7 file").CheckAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync());
        var file = pki.Path(first + ".p7b");
        await download.SaveAsAsync(file);
        var text = OpenSslFixture.Run("pkcs7", "-inform", "DER", "-in", file, "-print_certs", "-noout");
        Assert.Contains(first, text);
        Assert.Contains(second, text);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task DeleteShowsWhatWillBeDeletedAndDeletesOnlyAfterConfirmation()
    {
        var host = Unique("delete") + ".test.example";
        pki.MakeLeaf(host, host, [host]);
        var page = await browser.LoggedInPageAsync();
        await ImportAsync(page, null, pki.Path(host + ".crt"), pki.Path(host + ".key"));

        await ApplyAsync(page, "delete", host);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security :: Certificates :: Delete" })).ToBeVisibleAsync();
        await Expect(page.Locator("table")).ToContainTextAsync(host);
        await page.GetByRole(AriaRole.Link, new() { Name = "Cancel" }).ClickAsync();
        await Expect(Row(page, host)).ToHaveCountAsync(1);

        await ApplyAsync(page, "delete", host);
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Deleted '{host}'.");
        await Expect(Row(page, host)).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ACertificateRequestIsDeletedThroughItsConfirmationPage()
    {
        var name = Unique("req-delete");
        var page = await browser.LoggedInPageAsync();
        await CreateAsync(page, name, "Create Certificate Request");
        await Expect(page.GetByLabel("Request Data")).ToBeVisibleAsync();

        await page.GotoAsync("/appliance/security/certificates");
        await page.GetByRole(AriaRole.Checkbox, new() { Name = $"Select request {name}" }).CheckAsync();
        await page.Locator("#certificate-requests").GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Security :: Certificate Requests :: Delete" })).ToBeVisibleAsync();
        await Expect(page.Locator("table")).ToContainTextAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Deleted the certificate request '{name}'.");
        await Expect(page.Locator("#certificate-requests").GetByRole(AriaRole.Link, new() { Name = name })).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnUnreadableUploadIsRefusedInWordsAndImportsNothing()
    {
        var page = await browser.LoggedInPageAsync();
        var junk = pki.Path("junk.crt");
        await File.WriteAllTextAsync(junk, "this is not a certificate");
        await ImportAsync(page, null, junk);
        await Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("junk.crt");
        await Expect(page.Locator("body")).Not.ToContainTextAsync(new Regex("Exception|at Appliance\\."));
        await page.GotoAsync("/appliance/security/certificates");
        await Expect(page.GetByText("junk.crt")).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }
}
