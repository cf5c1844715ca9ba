using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Sessions;

namespace Appliance.Tpm.Tests;

/// <summary>
/// Byte vectors recorded from swtpm 0.7 (libtpms, manufacturer "IBM") through
/// Infrastructure/RecordingTransport: fresh TPM state, owner auth empty, PCRs 16 and 23 at zero.
/// </summary>
public sealed class Tpm2CommandsTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    [Fact]
    public void StartupClearIsTheTwelveByteFrameSwtpmReceives() =>
        // tag 8001 (no sessions), size 0000000C, TPM_CC_Startup 00000144, TPM_SU_CLEAR 0000
        Assert.Equal("80010000000C000001440000", Convert.ToHexString(Tpm2Commands.BuildStartup(TpmSu.Clear)));

    [Fact]
    public void StartupOnARunningTpmThrowsInitializeWithItsHint()
    {
        // swtpm was already started: TPM_RC_INITIALIZE (0x100).
        var error = Assert.Throws<TpmException>(() => Tpm2Commands.ParseStartupResponse(Hex("80010000000A00000100")));

        Assert.Equal(0x100u, error.ResponseCode);
        Assert.Equal("TPM2_Startup", error.Command);
        Assert.Equal("TPM2_Startup failed with TPM response code 0x100 (TPM_RC_INITIALIZE): the TPM has not been started; send TPM2_Startup (a simulator needs power-on and startup)", error.Message);
    }

    [Fact]
    public void GetCapabilityAsksForTheThirteenFixedPropertiesFromFamilyIndicator() =>
        // TPM_CC_GetCapability 0000017A, TPM_CAP_TPM_PROPERTIES 00000006, TPM_PT_FAMILY_INDICATOR 00000100, count 0000000D
        Assert.Equal("8001000000160000017A00000006000001000000000D", Convert.ToHexString(Tpm2Commands.BuildGetCapability(TpmCap.TpmProperties, 0x100, 13)));

    [Fact]
    public void GetCapabilityResponseGivesManufacturerAndFirmwareVersion()
    {
        // moreData 01, TPM_CAP_TPM_PROPERTIES, 13 tagged properties: ... 00000105 49424D00 ("IBM\0") ... 0000010B 20191023, 0000010C 00163636
        var response = Tpm2Commands.ParseGetCapabilityResponse(Hex(
            "80010000007B0000000001000000060000000D00000100322E3000000001010000000000000102000000A4000001030000004B00000104000007E50000010549424D000000010653572020000001072054504D000001080000000000000109000000000000010A000000010000010B201910230000010C00163636"));

        Assert.True(response.MoreData);
        Assert.Equal(13, response.Properties.Length);
        var manufacturer = response.Properties.Single(p => p.Property == TpmPt.Manufacturer).Value;
        Assert.Equal("IBM", Tpm2Commands.DecodeManufacturer(manufacturer));
        Assert.Equal("8217.4131.22.13878", Tpm2Commands.DecodeFirmwareVersion(0x20191023, 0x00163636));
    }

    [Theory]
    [InlineData(0x49424D00u, "IBM")]
    [InlineData(0x49465800u, "IFX")]
    [InlineData(0x53544D20u, "STM")]
    [InlineData(0x4E544300u, "NTC")]
    public void ManufacturerIsTheFourAsciiCharactersWithoutPadding(uint value, string expected) =>
        Assert.Equal(expected, Tpm2Commands.DecodeManufacturer(value));

    [Fact]
    public void GetRandomRoundTripsTheRecordedBytes()
    {
        Assert.Equal("80010000000C0000017B0008", Convert.ToHexString(Tpm2Commands.BuildGetRandom(8)));
        // randomBytes TPM2B_DIGEST: size 0008, then 8 bytes
        Assert.Equal("45AE085635A0B808", Convert.ToHexString(Tpm2Commands.ParseGetRandomResponse(Hex("80010000001400000000000845AE085635A0B808"))));
    }

    [Fact]
    public void CreatePrimaryOfTheStorageTemplateMatchesTheRecordedCommand()
    {
        var command = Tpm2Commands.BuildCreatePrimary(TpmRh.Owner, TpmtPublic.EccStoragePrimary, PasswordAuthorization.Empty);

        // tag 8002, size 43, CC 131, handle TPM_RH_OWNER; authSize 9: TPM_RS_PW, nonce 0000, attributes 01 (continueSession), hmac 0000;
        // inSensitive 0004 (0000 0000); inPublic 001A: ECC, SHA-256, 00030072, policy 0000, AES 0080 CFB, scheme NULL, P-256, kdf NULL, unique 0000 0000;
        // outsideInfo 0000; creationPCR count 00000000.
        Assert.Equal(
            "800200000043000001314000000100000009400000090000010000000400000000001A0023000B00030072000000060080004300100003001000000000000000000000",
            Convert.ToHexString(command));
    }

    [Fact]
    public void CreatePrimaryResponseGivesHandlePublicKeyAndName()
    {
        var response = Tpm2Commands.ParseCreatePrimaryResponse(Hex(
            "80020000013A000000008000000000000123005A0023000B0003007200000006008000430010000300100020880E4C89673037B3D1A87949FE4136AFBDC2CC5851599F326E7D8713ACFF658F00203F957DD7E518B7FC5217342F093012662ABF6ABD68D999CFA1EDFF22E34ECA5F0037000000000020E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855010010000440000001000440000001000000205DA041BAC0EE3135AEBB0CADFBA497C6A1877FAE832DD3D1F8F7A871B825E854802140000001004083CFAA6ABAAE988E2B83799DCFEEBC7C4D0362A3DCBB79B74BD684A5B7C035E65970F365A2C81C8973B34B2D34BC4475BD461811F7BAAC49FB82985297F8537C0022000B61DA67DAEECDC4FFD906B1CDB6466BAF8349A2493922A2D04CA174BC20FB4B2B0000010000"),
            PasswordAuthorization.Empty);

        Assert.Equal(0x80000000u, response.Handle);
        Assert.Equal("880E4C89673037B3D1A87949FE4136AFBDC2CC5851599F326E7D8713ACFF658F", Convert.ToHexString(response.Public.EccUnique!.X));
        Assert.Equal("3F957DD7E518B7FC5217342F093012662ABF6ABD68D999CFA1EDFF22E34ECA5F", Convert.ToHexString(response.Public.EccUnique.Y));
        Assert.Equal(TpmtPublic.EccStoragePrimary.Attributes, response.Public.Attributes);
        // The TPM's Name is ours: SHA-256 over the returned TPMT_PUBLIC.
        Assert.Equal("000B61DA67DAEECDC4FFD906B1CDB6466BAF8349A2493922A2D04CA174BC20FB4B2B", Convert.ToHexString(response.Name));
        Assert.Equal(response.Name, response.Public.ComputeName());
    }

    [Fact]
    public void PcrReadOfPcrs16And23SelectsBitsInTheThirdOctet()
    {
        // count 1, SHA-256 000B, sizeofSelect 03, bitmap 00 00 81 (PCR 16 = bit 0, PCR 23 = bit 7 of octet 2)
        Assert.Equal("8001000000140000017E00000001000B03000081", Convert.ToHexString(Tpm2Commands.BuildPcrRead(new TpmsPcrSelection(TpmAlg.Sha256, [16, 23]))));

        var result = Tpm2Commands.ParsePcrReadResponse(Hex(
            "800100000060000000000000001400000001000B03000081000000020020000000000000000000000000000000000000000000000000000000000000000000200000000000000000000000000000000000000000000000000000000000000000"));

        Assert.Equal(0x14u, result.UpdateCounter);
        Assert.Equal([16, 23], result.Selections.Single().Pcrs);
        Assert.All(result.Digests, digest => Assert.Equal(new byte[32], digest));
    }

    [Fact]
    public void StartAuthSessionOfATrialSessionMatchesTheRecordedCommand()
    {
        var nonce = Hex("173F44312F7238FA6C445EAEDC9913A834F88E24FB5EF382FBD342A5261C7388");

        var command = Tpm2Commands.BuildStartAuthSession(TpmRh.Null, TpmRh.Null, nonce, [], TpmSe.Trial, TpmtSymDef.Aes128Cfb, TpmAlg.Sha256);

        // tpmKey and bind TPM_RH_NULL; nonceCaller 0020 ...; encryptedSalt 0000; TPM_SE_TRIAL 03; AES 0080 CFB; SHA-256
        Assert.Equal("80010000003F0000017640000007400000070020173F44312F7238FA6C445EAEDC9913A834F88E24FB5EF382FBD342A5261C7388000003000600800043000B", Convert.ToHexString(command));
        var result = Tpm2Commands.ParseStartAuthSessionResponse(Hex("80010000003000000000030000000020D7607FCEC36FB746657EE42BFC06A9F2786FD382EDC8FE3E0A738CA0236217F1"));
        Assert.Equal(0x03000000u, result.Handle);
        Assert.Equal("D7607FCEC36FB746657EE42BFC06A9F2786FD382EDC8FE3E0A738CA0236217F1", Convert.ToHexString(result.NonceTpm));
    }

    [Fact]
    public void PolicyPcrAndPolicyGetDigestGiveTheDigestWeComputeForSealing()
    {
        Assert.Equal("80010000001A0000017F03000000000000000001000B03000081", Convert.ToHexString(Tpm2Commands.BuildPolicyPcr(0x03000000, [], new TpmsPcrSelection(TpmAlg.Sha256, [16, 23]))));
        Tpm2Commands.ParsePolicyPcrResponse(Hex("80010000000A00000000"));
        Assert.Equal("80010000000E0000018903000000", Convert.ToHexString(Tpm2Commands.BuildPolicyGetDigest(0x03000000)));

        var digest = Tpm2Commands.ParsePolicyGetDigestResponse(Hex("80010000002C000000000020599A9CCA81C171E404E4AFC462E7415EE799C498B00FF6EDB68D07DE1DC47A20"));

        var zeros = new SortedDictionary<int, byte[]> { [16] = new byte[32], [23] = new byte[32] };
        Assert.Equal(Convert.ToHexString(TpmSealedVaultKey.PcrPolicyDigest(zeros)), Convert.ToHexString(digest));
    }

    [Fact]
    public void FlushContextCarriesTheHandleAsAParameter()
    {
        Assert.Equal("80010000000E0000016580000000", Convert.ToHexString(Tpm2Commands.BuildFlushContext(0x80000000)));
        Tpm2Commands.ParseFlushContextResponse(Hex("80010000000A00000000"));
    }

    [Fact]
    public void PcrExtendUsesThePcrIndexAsHandleWithAPasswordSession()
    {
        var command = Tpm2Commands.BuildPcrExtend(16, TpmAlg.Sha256, new byte[32], PasswordAuthorization.Empty);

        Assert.Equal("80020000004100000182000000100000000940000009000001000000000001000B0000000000000000000000000000000000000000000000000000000000000000", Convert.ToHexString(command));
        // parameterSize 00000000, then the password session's response: nonce 0000, attributes 01, hmac 0000
        Tpm2Commands.ParsePcrExtendResponse(Hex("80020000001300000000000000000000010000"), PasswordAuthorization.Empty);
    }

    [Fact]
    public void AResponseShorterThanItsHeaderSaysIsAFormatError()
    {
        var error = Assert.Throws<TpmFormatException>(() => Tpm2Commands.ParseGetRandomResponse(Hex("80010000001400000000000845AE")));

        Assert.Equal("TPM2_GetRandom response says 20 bytes but 14 arrived.", error.Message);
    }
}
