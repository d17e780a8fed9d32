# One image per service: docker build --build-arg SERVICE=ingest .
FROM node:20-bookworm-slim AS build
RUN npm install --global pnpm@12.4.2
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm run build

FROM node:20-bookworm-slim
ARG SERVICE
ENV SERVICE=${SERVICE} NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
EXPOSE 8080
CMD ["sh", "-c", "node services/${SERVICE}/dist/main.js"]
