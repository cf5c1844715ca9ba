using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm.Tests;

public sealed class TpmtPublicTests
{
    // tpm2_readpublic -o of the primary from `tpm2_createprimary -C o -g sha256 -G ecc` on a fresh swtpm:
    // size 005A, ECC 0023, SHA-256 000B, attributes 00030072, policy 0000, AES 0006 128 0080 CFB 0043,
    // scheme NULL 0010, NIST P-256 0003, kdf NULL 0010, x 0020..., y 0020...
    private const string Tpm2ToolsPrimaryPublic =
        "005A0023000B000300720000000600800043001000030010" +
        "0020E8846F23268073624C185D38538AFD283199D02CDFB8B28CFD1F80EDDF720E11" +
        "00205ECDB550E1113834071EB63D91CFCAAF3A31C96E2AD551B11198ABD5CA3938E0";

    [Fact]
    public void ThePrimaryTpm2ToolsWroteParsesAsOurStorageTemplateWithAKey()
    {
        var parsed = TpmtPublic.FromTpm2B(Convert.FromHexString(Tpm2ToolsPrimaryPublic));

        var withoutKey = parsed with { EccUnique = TpmsEccPoint.Empty };
        Assert.Equal(Convert.ToHexString(TpmtPublic.EccStoragePrimary.ToTpm2B()), Convert.ToHexString(withoutKey.ToTpm2B()));
        Assert.Equal(Tpm2ToolsPrimaryPublic, Convert.ToHexString(parsed.ToTpm2B()));
    }

    [Fact]
    public void ThePrimaryNameIsTheOneTpm2ToolsPrints() =>
        // tpm2_readpublic printed "name: 000be0676b34...494e78c" for that key.
        Assert.Equal(
            "000BE0676B345D503CF1696CCB74DBC4923BF60908A67D6C187830DA81076494E78C",
            Convert.ToHexString(TpmtPublic.FromTpm2B(Convert.FromHexString(Tpm2ToolsPrimaryPublic)).ComputeName()));

    [Fact]
    public void ASealedDataObjectWithoutPolicyIsUsableWithItsEmptyAuthValue()
    {
        var template = TpmtPublic.SealedData([]);

        // size 000E, KEYEDHASH 0008, SHA-256, fixedTPM|fixedParent|userWithAuth|noDA = 00000452, policy 0000, scheme NULL, unique 0000
        Assert.Equal("000E0008000B0000045200000010" + "0000", Convert.ToHexString(template.ToTpm2B()));
    }

    [Fact]
    public void ASealedDataObjectWithAPolicyNeedsThePolicyForTheUserRole()
    {
        var policy = new byte[32];
        policy[0] = 0xAB;

        var roundTripped = TpmtPublic.FromTpm2B(TpmtPublic.SealedData(policy).ToTpm2B());

        Assert.Equal(TpmaObject.FixedTpm | TpmaObject.FixedParent | TpmaObject.NoDa, roundTripped.Attributes);
        Assert.Equal(policy, roundTripped.AuthPolicy);
        Assert.Equal(TpmAlg.KeyedHash, roundTripped.Type);
    }

    [Fact]
    public void AnRsaPublicAreaIsRejectedWithItsType()
    {
        var error = Assert.Throws<TpmFormatException>(() => TpmtPublic.FromTpm2B(Convert.FromHexString("000A0001000B000300720000")));

        Assert.Equal("TPMT_PUBLIC of type 0x0001 is not supported.", error.Message);
    }
}
