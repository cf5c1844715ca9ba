using System.Net;
using System.Text;
using System.Text.Json;

namespace Appliance.Tests.Hostile;

/// <summary>
/// Requests the API cannot use are refused with a 4xx problem document that says what to do, never a 5xx or a bare
/// status (the faults a property-based fuzzer found, issue 10).
/// </summary>
[Collection(ApplianceCollection.Name)]
public sealed class MalformedRequestTests(ApplianceFixture fixture)
{
    private ApplianceProcess Appliance => fixture.Appliance;

    [Theory]
    [InlineData("PUT", "email", """{"recipients":[null]}""", "$.recipients[0]")]
    [InlineData("PUT", "email", """{"recipients":["a@example.com",null]}""", "$.recipients[1]")]
    [InlineData("PUT", "network/addresses", "[null]", "$[0]")]
    [InlineData("POST", "certificates/export", """{"ids":[null],"certificate":true}""", "$.ids[0]")]
    [InlineData("POST", "certificate-requests", """{"friendlyName":"x","key":"rsa-2048","subjectAlternativeNames":[null]}""", "$.subjectAlternativeNames[0]")]
    public async Task ANullItemInAListIsRefusedWithItsPath(string method, string route, string body, string path)
    {
        using var client = await Appliance.LoginAsync();
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), route)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        });
        var detail = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(path, detail);
    }

    [Theory]
    [InlineData("audit?before=abc", "before value 'abc' is not an entry id")]
    [InlineData("audit?limit=abc", "limit 'abc' is not a whole number")]
    [InlineData("audit?limit=99999999999999999999", "is not a whole number from 1 to 1000")]
    [InlineData("audit?limit=0", "The limit 0 is out of range")]
    public async Task AMalformedQueryValueIsRefusedInWords(string target, string words)
    {
        using var client = await Appliance.LoginAsync();
        using var response = await client.GetAsync(target);
        Assert.Contains(words, await AssertProblemAsync(response, HttpStatusCode.BadRequest));
    }

    [Theory]
    [InlineData("certificate-requests/.")]
    [InlineData("certificates/.")]
    [InlineData("certificates/%2e")]
    [InlineData("certificates/..")]
    [InlineData("certificates/x/../..")]
    public async Task ADotSegmentIsRefusedRatherThanAnsweringTheList(string target)
    {
        using var client = await Appliance.LoginAsync();
        using var response = await client.GetAsync(Raw(target));
        Assert.Contains("without '.' or '..' segments", await AssertProblemAsync(response, HttpStatusCode.BadRequest));
    }

    /// <summary>
    /// Kestrel refuses a request target that decodes to a NUL while parsing the request line, before any middleware
    /// runs: a 400 without a body, and the connection is closed. No handler ever sees such an id.
    /// </summary>
    [Theory]
    [InlineData("certificates/%00")]
    [InlineData("certificates/a%00b")]
    [InlineData("users/%00/password-reset")]
    public async Task ANulInAPathSegmentIsRefusedBeforeTheApplication(string target)
    {
        using var client = await Appliance.LoginAsync();
        using var response = await client.GetAsync(Raw(target));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(response.Headers.ConnectionClose);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("TRACE", "certificates", "GET")]
    [InlineData("PATCH", "email", "GET, PUT")]
    [InlineData("OPTIONS", "certificates/abc", "DELETE, GET")]
    [InlineData("PUT", "session", "DELETE, POST")]
    public async Task AnUnknownMethodOnAKnownRouteAnswers405WithAllow(string method, string route, string allow)
    {
        using var client = await Appliance.LoginAsync();
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), route));
        Assert.Contains("Allow header", await AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed));
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
    }

    [Fact]
    public async Task AnUnknownRouteAnswers404WithAProblemDocument()
    {
        using var client = await Appliance.LoginAsync();
        using var response = await client.GetAsync("no-such-route");
        Assert.Contains("There is no API route GET", await AssertProblemAsync(response, HttpStatusCode.NotFound));
        using var outside = await client.GetAsync("../no-such-version/x.txt");
        await AssertProblemAsync(outside, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"username":5,"password":"x"}""", "the value at $.username is not of the type this route takes")]
    [InlineData("""{"username":"admin",""", "not well-formed JSON")]
    [InlineData("""[1,2]""", "is not of the type this route takes")]
    public async Task ABodyOfTheWrongShapeIsRefusedWithWhereItWentWrong(string body, string words)
    {
        using var client = Appliance.Client();
        using var response = await client.PostAsync("session", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Contains(words, await AssertProblemAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task AJsonBodyOverTheLimitAnswers413AndOneWithoutJsonContentType415()
    {
        using var client = await Appliance.LoginAsync();
        var big = "{\"name\":\"" + new string('a', 70 * 1024) + "\"}";
        using var chunked = new StringContent(big, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "tokens") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;
        // The appliance answers 413 before reading the body and closes the connection; the client says it will not
        // reuse it either, so the next request cannot race that close on a pooled connection.
        request.Headers.ConnectionClose = true;
        using var response = await client.SendAsync(request);
        Assert.Contains("64 KiB", await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge));
        using var sizedRequest = new HttpRequestMessage(HttpMethod.Post, "tokens") { Content = chunked };
        sizedRequest.Headers.ConnectionClose = true;
        using var sized = await client.SendAsync(sizedRequest);
        await AssertProblemAsync(sized, HttpStatusCode.RequestEntityTooLarge);
        using var text = await client.PostAsync("tokens", new StringContent("{}", Encoding.UTF8, "text/plain"));
        Assert.Contains("Content-Type: application/json", await AssertProblemAsync(text, HttpStatusCode.UnsupportedMediaType));
    }

    /// <summary>A target kept as written: no removal of dot segments, no unescaping.</summary>
    private Uri Raw(string target) =>
        new(Appliance.BaseUri + target, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

    private static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        var detail = problem.RootElement.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail));
        return detail!;
    }
}
