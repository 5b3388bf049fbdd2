package config_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/slipway-dev/slipway/config"
)

func ExampleNew() {
	c, err := config.New("shop", "prod", config.Spec{
		Env:     map[string]string{"PORT": "8080", "LOG_LEVEL": "info"},
		Secrets: map[string]string{"DB_PASSWORD": "vault://kv/shop/prod#db_password"},
	}, config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(c.Bytes()))
	fmt.Println(c.Descriptor().MediaType)
	fmt.Println(c.Digest())
	// Output:
	// {"app":"shop","environment":"prod","env":{"LOG_LEVEL":"info","PORT":"8080"},"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"}}
	// application/vnd.slipway.config.v1+json
	// sha256:f85b45c4d9d151526c429cf995bcbb7c5c06b65db7741157f306ae4191e38624
}

// A plain variable that looks like a secret is refused. The error names
// the variable and the rule, never the value.
func ExampleNew_plaintextSecret() {
	_, err := config.New("shop", "prod", config.Spec{
		Env: map[string]string{
			"PORT":        "8080",
			"DB_PASSWORD": "hunter2",
			"AWS_ID":      "AKIA" + "IOSFODNN7EXAMPLE",
		},
	}, config.Options{})
	fmt.Println(err)
	var ve *config.VarError
	if errors.Is(err, config.ErrPlaintextSecret) && errors.As(err, &ve) {
		fmt.Println("first:", ve.Name, ve.Rule)
	}
	// Output:
	// config: "AWS_ID": plaintext secret (rule aws-access-key-id)
	// "DB_PASSWORD": plaintext secret (rule name-password)
	// first: AWS_ID aws-access-key-id
}

// A false positive is admitted by name; it stays a finding, which every
// release that uses the config reports.
func ExampleOptions() {
	c, err := config.New("shop", "prod", config.Spec{
		Env: map[string]string{"PUBLIC_API_KEY": "pk-demo-shop"},
	}, config.Options{AllowPlaintext: []string{"PUBLIC_API_KEY"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Findings())
	// Output: [{PUBLIC_API_KEY name-key}]
}

func ExampleParse() {
	c, err := config.Parse([]byte(`{
  "app": "shop",
  "environment": "prod",
  "env": {"PORT": "8080", "LOG_LEVEL": "info"},
  "secrets": {"DB_PASSWORD": "vault://kv/shop/prod#db_password"}
}`), config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.App(), c.Environment(), c.Env(), c.Secrets())

	_, err = config.Parse([]byte(`{"app":"shop","environment":"prod","env":{"PORT":8080}}`), config.Options{})
	fmt.Println(err)
	// Output:
	// shop prod map[LOG_LEVEL:info PORT:8080] map[DB_PASSWORD:vault://kv/shop/prod#db_password]
	// config: invalid config: line 1, column 50: env: "PORT": want a string, got a number
}

func ExampleDiff() {
	old, err := config.Parse([]byte(`{"app":"shop","environment":"prod",
		"env":{"LOG_LEVEL":"info","DEBUG":"1","PORT":"8080"},
		"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"}}`), config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	next, err := config.Parse([]byte(`{"app":"shop","environment":"prod",
		"env":{"LOG_LEVEL":"debug","PORT":"8080"},
		"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password_v2","API_KEY":"env://SHOP_API_KEY"}}`), config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range config.Diff(old, next) {
		fmt.Println(c)
	}
	// Output:
	// + API_KEY=secret(env://SHOP_API_KEY)
	// ~ DB_PASSWORD: secret(vault://kv/shop/prod#db_password) -> secret(vault://kv/shop/prod#db_password_v2)
	// - DEBUG=1
	// ~ LOG_LEVEL: info -> debug
}

func ExampleConfig_WithVar() {
	base, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"PORT": "8080"}}, config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	next, err := base.WithVar("PORT", "9090")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(base.Env()["PORT"], next.Env()["PORT"], base.Digest() == next.Digest())
	// Output: 8080 9090 false
}

// At run time, and only then, the references become values.
func ExampleConfig_Resolve() {
	c, err := config.New("shop", "prod", config.Spec{
		Env:     map[string]string{"PORT": "8080"},
		Secrets: map[string]string{"DB_PASSWORD": "env://SHOP_DB_PASSWORD", "TLS_KEY": "file:///run/secrets/tls.key"},
	}, config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r := config.Schemes{
		// A stand-in for the process environment.
		"env":  config.EnvResolver{Lookup: func(string) (string, bool) { return "", false }},
		"file": config.FileResolver{Root: "/run/secrets"},
	}
	_, err = c.Resolve(context.Background(), r)
	fmt.Println(errors.Is(err, config.ErrUnresolved))
	var re *config.ResolveError
	if errors.As(err, &re) {
		fmt.Println(re.Name, re.Ref)
	}

	r["env"] = config.EnvResolver{Lookup: func(string) (string, bool) { return "from-the-vault", true }}
	r["file"] = config.ResolverFunc(func(context.Context, string) (string, error) { return "pem", nil })
	env, err := c.Resolve(context.Background(), r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(slices.Sorted(maps.Keys(env)))
	// Output:
	// true
	// DB_PASSWORD env://SHOP_DB_PASSWORD
	// [DB_PASSWORD PORT TLS_KEY]
}
