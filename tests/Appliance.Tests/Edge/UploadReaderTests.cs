using System.Net.Http.Headers;
using System.Text;
using Appliance.Edge;
using Microsoft.AspNetCore.Http;

namespace Appliance.Tests.Edge;

/// <summary>One upload reader for the API's import and the Import page (src/Appliance/Edge/UploadReader.cs), read from real multipart bodies.</summary>
public sealed class UploadReaderTests
{
    [Fact]
    public async Task ReadsEveryFileWithItsNameAndThePassword()
    {
        using var form = new MultipartFormDataContent();
        AddFile(form, "chain.pem", "-----BEGIN CERTIFICATE-----");
        AddFile(form, "../dir/key.pem", "-----BEGIN PRIVATE KEY-----");
        form.Add(new StringContent("s3cret"), "password");

        var upload = await UploadReader.ReadAsync(await Post(EdgePaths.ApiImport, form));

        Assert.Equal(["chain.pem", "key.pem"], upload.Files.Select(f => f.FileName));
        Assert.Equal("-----BEGIN PRIVATE KEY-----", Encoding.ASCII.GetString(upload.Files[1].Content.Span));
        Assert.Equal("s3cret", upload.Password);
    }

    [Fact]
    public async Task AnEmptyOrMissingPasswordFieldIsNoPassword()
    {
        using var empty = new MultipartFormDataContent();
        AddFile(empty, "a.pem", "x");
        empty.Add(new StringContent(""), "password");
        using var missing = new MultipartFormDataContent();
        AddFile(missing, "a.pem", "x");

        Assert.Null((await UploadReader.ReadAsync(await Post(EdgePaths.PageImport, empty))).Password);
        Assert.Null((await UploadReader.ReadAsync(await Post(EdgePaths.ApiImport, missing))).Password);
    }

    [Fact]
    public async Task AFileInputLeftEmptyIsNoFileButAnEmptyFileWithANameIsKeptToBeRefusedByName()
    {
        using var form = new MultipartFormDataContent();
        // What a browser sends for a file input left empty: the part with filename="" and no content.
        var unused = new ByteArrayContent([]);
        unused.Headers.ContentDisposition = new ContentDispositionHeaderValue("form-data") { Name = "\"file\"", FileName = "\"\"" };
        unused.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(unused);
        AddFile(form, "empty.crt", "");

        var upload = await UploadReader.ReadAsync(await Post(EdgePaths.PageImport, form));

        var file = Assert.Single(upload.Files);
        Assert.Equal("empty.crt", file.FileName);
        Assert.True(file.Content.IsEmpty);
    }

    [Fact]
    public async Task MoreFilesThanTheLimitAreRefusedWithTheCountAndTheLimit()
    {
        using var form = new MultipartFormDataContent();
        for (var i = 0; i <= UploadLimits.MaxFiles; i++) AddFile(form, $"f{i}.pem", "x");

        var refused = await Assert.ThrowsAsync<RequestException>(async () => await UploadReader.ReadAsync(await Post(EdgePaths.ApiImport, form)));

        Assert.Equal(RequestFailure.Invalid, refused.Reason);
        Assert.Equal("The upload holds 21 files; at most 20 can be imported at once. Import them in several uploads.", refused.Message);
    }

    [Fact]
    public async Task AFileNameOverTheLimitIsRefusedWithItsLengthAndTheLimit()
    {
        using var form = new MultipartFormDataContent();
        AddFile(form, new string('n', UploadLimits.MaxFileNameLength + 1), "x");

        var refused = await Assert.ThrowsAsync<RequestException>(async () => await UploadReader.ReadAsync(await Post(EdgePaths.ApiImport, form)));

        Assert.Equal(RequestFailure.Invalid, refused.Reason);
        Assert.StartsWith("A file name is 256 characters long; at most 255 are accepted.", refused.Message);
    }

    [Fact]
    public async Task APasswordOverTheLimitIsRefusedWithItsLengthAndTheLimit()
    {
        using var form = new MultipartFormDataContent();
        AddFile(form, "a.p12", "x");
        form.Add(new StringContent(new string('p', UploadLimits.MaxPasswordLength + 1)), "password");

        var refused = await Assert.ThrowsAsync<RequestException>(async () => await UploadReader.ReadAsync(await Post(EdgePaths.PageImport, form)));

        Assert.Equal("The password is 1025 characters long; at most 1024 are accepted.", refused.Message);
    }

    [Fact]
    public async Task ADeclaredLengthOverTheLimitIsRefusedAs413BeforeTheBodyIsRead()
    {
        using var form = new MultipartFormDataContent();
        AddFile(form, "a.pem", "x");
        var context = await Post(EdgePaths.ApiImport, form);
        context.Request.ContentLength = UploadLimits.MaxBytes + 1;

        var refused = await Assert.ThrowsAsync<RequestException>(() => UploadReader.ReadAsync(context));

        Assert.Equal(RequestFailure.TooLarge, refused.Reason);
        Assert.Equal("The upload is 10485761 bytes; files of at most 10 MB in all can be imported at once.", refused.Message);
    }

    [Fact]
    public async Task ABodyThatIsNotAFormIsRefusedAsTheWrongMediaType()
    {
        var context = await Post(EdgePaths.ApiImport, new StringContent("{}", Encoding.UTF8, "application/json"));

        var refused = await Assert.ThrowsAsync<RequestException>(() => UploadReader.ReadAsync(context));

        Assert.Equal(RequestFailure.UnsupportedMediaType, refused.Reason);
    }

    [Fact]
    public async Task ABrokenMultipartBodyIsRefusedAsInvalid()
    {
        var context = await Post(EdgePaths.ApiImport, new StringContent("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pem\"\r\n\r\nno end"));
        context.Request.ContentType = "multipart/form-data; boundary=b";

        var refused = await Assert.ThrowsAsync<RequestException>(() => UploadReader.ReadAsync(context));

        Assert.Equal(RequestFailure.Invalid, refused.Reason);
        Assert.StartsWith("The upload is not a valid multipart form: ", refused.Message);
    }

    [Theory]
    [InlineData("POST", "/appliance/api/v1/certificates/import", true)]
    [InlineData("POST", "/appliance/security/certificates/import", true)]
    [InlineData("GET", "/appliance/security/certificates/import", false)]
    [InlineData("POST", "/appliance/api/v1/certificates/export", false)]
    public void OnlyThePostsToTheTwoImportRoutesAreUploads(string method, string path, bool upload)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        Assert.Equal(upload, UploadReader.IsUpload(context));
    }

    private static void AddFile(MultipartFormDataContent form, string name, string content)
    {
        var part = new ByteArrayContent(Encoding.ASCII.GetBytes(content));
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "file", name);
    }

    private static async Task<HttpContext> Post(string path, HttpContent content)
    {
        var body = await content.ReadAsByteArrayAsync();
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.ContentType = content.Headers.ContentType?.ToString();
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        return context;
    }
}
